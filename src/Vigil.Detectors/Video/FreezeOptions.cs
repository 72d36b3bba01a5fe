namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="FreezeDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record FreezeOptions : IDetectorOptions
{
    [Option("Seconds without change before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 2.0;

    [Option("A cell (16×16 analysis pixels) whose mean luma moves less than this (8-bit code values) has not changed", Min = 0, Max = 255)]
    public double MinCellChange { get; init; } = 3.0;

    [Option("Upper bound of the noise-adaptive cell threshold, so heavy grain cannot mask real motion (≥ min_cell_change)", Min = 0, Max = 255)]
    public double MaxCellChange { get; init; } = 12.0;

    // Catches fine texture scrolling or panning, which keeps the cell means: the threshold rises with the
    // measured noise up to max_texture_change.
    [Option("A cell whose pixels differ from the reference by less than this on average (8-bit code values) has not changed", Min = 0, Max = 255)]
    public double MinTextureChange { get; init; } = 8.0;

    // heavy grain averages ~13 here at SD
    [Option("Upper bound of the noise-adaptive texture threshold (≥ min_texture_change)", Min = 0, Max = 255)]
    public double MaxTextureChange { get; init; } = 20.0;

    [Option("Cells that must change for the picture to count as moving (one can be a noise outlier)", Min = 1, Max = 100_000)]
    public int MinChangedCells { get; init; } = 2;

    [Option("A change of the whole picture's mean (a fade) above this counts as motion", Min = 0, Max = 255)]
    public double MinGlobalChange { get; init; } = 1.5;

    [Option("Regions to ignore, e.g. a burnt-in clock")]
    public RegionMask Mask { get; init; } = RegionMask.None;

    public void CheckCombination(OptionRules rules)
    {
        // each noise-adaptive threshold rises from its floor to its ceiling: a ceiling under the floor would invert it
        rules.AtLeast(nameof(MaxCellChange), MaxCellChange, nameof(MinCellChange), MinCellChange);
        rules.AtLeast(nameof(MaxTextureChange), MaxTextureChange, nameof(MinTextureChange), MinTextureChange);
    }
}
