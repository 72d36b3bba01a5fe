namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="FreezeDetector"/>; defaults from the event contract.</summary>
public sealed record FreezeOptions : IDetectorOptions
{
    /// <summary>Seconds without change before it is a defect.</summary>
    public double MinDuration { get; init; } = 2.0;
    /// <summary>A cell (16×16 analysis pixels) whose mean luma moves less than this (8-bit code values) has not changed.</summary>
    public double MinCellChange { get; init; } = 3.0;
    /// <summary>Upper bound of the noise-adaptive cell threshold, so heavy grain cannot mask real motion.</summary>
    public double MaxCellChange { get; init; } = 12.0;
    /// <summary>
    /// A cell whose pixels differ from the reference by less than this on average (8-bit code values) has
    /// not changed, even if texture moved through it; the threshold rises with the measured noise up to
    /// <see cref="MaxTextureChange"/>. Catches fine texture scrolling or panning, which keeps cell means.
    /// </summary>
    public double MinTextureChange { get; init; } = 8.0;
    /// <summary>Upper bound of the noise-adaptive texture threshold: heavy grain averages ~13 here at SD.</summary>
    public double MaxTextureChange { get; init; } = 20.0;
    /// <summary>Cells that must change for the picture to count as moving (one can be a noise outlier).</summary>
    public int MinChangedCells { get; init; } = 2;
    /// <summary>A change of the whole picture's mean (a fade) above this counts as motion.</summary>
    public double MinGlobalChange { get; init; } = 1.5;
    /// <summary>Regions to ignore, e.g. a burnt-in clock: <c>x,y,w,h</c> fractions.</summary>
    public RegionMask Mask { get; init; } = RegionMask.None;

    public void Validate()
    {
        Guard.Between(MinDuration, 0, 3600, "video.freeze.min_duration");
        Guard.Between(MinCellChange, 0, 255, "video.freeze.min_cell_change");
        Guard.Between(MaxCellChange, MinCellChange, 255, "video.freeze.max_cell_change");
        Guard.Between(MinTextureChange, 0, 255, "video.freeze.min_texture_change");
        Guard.Between(MaxTextureChange, MinTextureChange, 255, "video.freeze.max_texture_change");
        Guard.Between(MinChangedCells, 1, 100_000, "video.freeze.min_changed_cells");
        Guard.Between(MinGlobalChange, 0, 255, "video.freeze.min_global_change");
    }
}
