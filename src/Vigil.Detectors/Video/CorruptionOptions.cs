namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="CorruptionDetector"/>.</summary>
public sealed record CorruptionOptions : IDetectorOptions
{
    /// <summary>A frame arriving this many nominal frame durations after the previous one means frames were lost.</summary>
    public double GapFrames { get; init; } = 1.5;
    /// <summary>A block edge is stepped when the step excess summed over its 8 pixels reaches this.</summary>
    public int EdgeStep { get; init; } = 48;
    /// <summary>
    /// Share of 8×8 blocks newly broken (edges stepped, inside not) that starts a defect without any bitstream
    /// evidence (damage the decoder did not notice); 1 disables picture-only onsets.
    /// </summary>
    public double PictureOnset { get; init; } = 0.06;
    /// <summary>
    /// Share of 8×8 blocks newly broken that confirms a packet the demuxer flagged corrupt (within a second
    /// of it): a flag alone is no defect, a clean real broadcast can carry hundreds.
    /// </summary>
    public double LookOnset { get; init; } = 0.005;
    /// <summary>
    /// A change of more than this (mean luma code values, median over blocks) means the whole picture
    /// changed (a cut, a flash): new edges then belong to new content, not to damage.
    /// </summary>
    public double GlobalChange { get; init; } = 6;
    /// <summary>Seconds a damage may propagate without a clean key frame or fresh evidence before it is considered healed.</summary>
    public double MaxPropagation { get; init; } = 10;

    public void Validate()
    {
        Guard.Between(GapFrames, 1.01, 100, "video.corruption.gap_frames");
        Guard.Between(EdgeStep, 2, 2040, "video.corruption.edge_step");
        Guard.Between(PictureOnset, 0.001, 1, "video.corruption.picture_onset");
        Guard.Between(LookOnset, 0.0001, 1, "video.corruption.look_onset");
        Guard.Between(GlobalChange, 0, 255, "video.corruption.global_change");
        Guard.Between(MaxPropagation, 0.04, 3600, "video.corruption.max_propagation");
    }
}
