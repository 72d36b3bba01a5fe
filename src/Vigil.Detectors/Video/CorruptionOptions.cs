namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="CorruptionDetector"/>.</summary>
public sealed record CorruptionOptions : IDetectorOptions
{
    /// <summary>A frame arriving this many nominal frame durations after the previous one means frames were lost.</summary>
    public double GapFrames { get; init; } = 1.5;
    /// <summary>A macroblock edge is a new discontinuity when its summed step excess (32 edge pixels) rose by at least this.</summary>
    public int EdgeRise { get; init; } = 96;
    /// <summary>
    /// Share of macroblocks with new edge discontinuities that starts a defect without any bitstream
    /// evidence (damage the decoder did not notice); 1 disables picture-only onsets.
    /// </summary>
    public double PictureOnset { get; init; } = 0.06;
    /// <summary>
    /// A change of more than this (mean luma code values, median over macroblocks) means the whole picture
    /// changed (a cut, a flash): new edges then belong to new content, not to damage.
    /// </summary>
    public double GlobalChange { get; init; } = 6;
    /// <summary>Seconds a damage may propagate without a clean key frame or fresh evidence before it is considered healed.</summary>
    public double MaxPropagation { get; init; } = 10;

    public void Validate()
    {
        Guard.Between(GapFrames, 1.01, 100, "video.corruption.gap_frames");
        Guard.Between(EdgeRise, 1, 8160, "video.corruption.edge_rise");
        Guard.Between(PictureOnset, 0.001, 1, "video.corruption.picture_onset");
        Guard.Between(GlobalChange, 0, 255, "video.corruption.global_change");
        Guard.Between(MaxPropagation, 0.04, 3600, "video.corruption.max_propagation");
    }
}
