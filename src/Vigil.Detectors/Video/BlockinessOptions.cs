namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="BlockinessDetector"/>; defaults from the event contract.</summary>
public sealed record BlockinessOptions : IDetectorOptions
{
    /// <summary>Seconds of visible blocking before it is a defect.</summary>
    public double MinDuration { get; init; } = 1.0;
    /// <summary>
    /// A picture is blocky when this share of its 8×8 blocks is stepped on both the left and top edge,
    /// beyond the share stepped on their inner lines (clean pictures stay under 0.012 on the corpus).
    /// </summary>
    public double Threshold { get; init; } = 0.015;
    /// <summary>A block edge is stepped when the step excess summed over its 8 pixels reaches this.</summary>
    public int BlockStep { get; init; } = 16;
    /// <summary>
    /// A block edge whose step excess summed over its 8 pixels exceeds this (12 code values a pixel) is a
    /// content edge, not blocking: a starved codec flattens smooth areas into a staircase of steps of a few
    /// code values (the gradient it drops across 8 px), while graphics drawn on the grid (testsrc2's small
    /// squares, on-screen boxes) step by tens. Such an edge does not count as stepped.
    /// </summary>
    public int BlockStepCap { get; init; } = 96;
    /// <summary>
    /// For codecs with in-loop deblocking: a picture is blocky when this share of neighbouring flat blocks
    /// differs by a patch step across the 16- or 32-px grid, beyond the share that does so across the lines
    /// between (8 px off the grid). Summed over horizontal and vertical neighbours; clean pictures of the
    /// corpus stay under 0.045, starved H.264 and HEVC over 0.069.
    /// </summary>
    public double PatchThreshold { get; init; } = 0.05;
    /// <summary>
    /// A block is flat inside when its activity (summed absolute difference of the 112 neighbouring pixel
    /// pairs inside it) stays under this: 112 is one code value a pair on average.
    /// </summary>
    public int FlatActivity { get; init; } = 112;
    /// <summary>
    /// Two flat neighbouring blocks form a patch step when their mean luma differs by at least this many
    /// code values: less is the faint mottling encoders leave on grainy flat areas at ordinary quality.
    /// </summary>
    public double PatchStep { get; init; } = 3;
    /// <summary>Mean luma differences above this (code values) are content edges (graphics), not quantiser steps.</summary>
    public double PatchStepCap { get; init; } = 20;
    /// <summary>Seconds of non-blocky pictures that do not break a blocky stretch (one cleaner frame).</summary>
    public double Bridge { get; init; } = 0.1;

    public void Validate()
    {
        Guard.Between(MinDuration, 0, 3600, "video.blockiness.min_duration");
        Guard.Between(Threshold, 0.0001, 1, "video.blockiness.threshold");
        Guard.Between(BlockStep, 1, 2040, "video.blockiness.block_step");
        Guard.Between(BlockStepCap, BlockStep, 2040, "video.blockiness.block_step_cap");
        Guard.Between(PatchThreshold, 0.0001, 4, "video.blockiness.patch_threshold");
        Guard.Between(FlatActivity, 1, 28560, "video.blockiness.flat_activity");
        Guard.Between(PatchStep, 1.0 / 64, 255, "video.blockiness.patch_step");
        Guard.Between(PatchStepCap, PatchStep, 255, "video.blockiness.patch_step_cap");
        Guard.Between(Bridge, 0, 10, "video.blockiness.bridge");
    }
}
