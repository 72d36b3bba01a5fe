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
    /// A picture is blocky when this share of its macroblock-corner blocks is stepped on both edges by at
    /// least <see cref="MacroblockStep"/>, beyond the share of all blocks so stepped on their inner lines.
    /// </summary>
    public double MacroblockThreshold { get; init; } = 0.08;
    /// <summary>
    /// The softer step for macroblock edges, which in-loop deblocking flattens. Lower catches more starved
    /// H.264 but also the faint mottling x264 leaves on noisy flat areas at ordinary quality (at 2, a
    /// 1080p crf 23 clip of flat colour with grain is called blocky).
    /// </summary>
    public int MacroblockStep { get; init; } = 3;
    /// <summary>
    /// The cap of <see cref="BlockStepCap"/> for the macroblock check, lower since deblocking leaves only
    /// faint steps there (6 code values a pixel).
    /// </summary>
    public int MacroblockStepCap { get; init; } = 48;
    /// <summary>Seconds of non-blocky pictures that do not break a blocky stretch (one cleaner frame).</summary>
    public double Bridge { get; init; } = 0.1;

    public void Validate()
    {
        Guard.Between(MinDuration, 0, 3600, "video.blockiness.min_duration");
        Guard.Between(Threshold, 0.0001, 1, "video.blockiness.threshold");
        Guard.Between(BlockStep, 1, 2040, "video.blockiness.block_step");
        Guard.Between(BlockStepCap, BlockStep, 2040, "video.blockiness.block_step_cap");
        Guard.Between(MacroblockThreshold, 0.0001, 1, "video.blockiness.macroblock_threshold");
        Guard.Between(MacroblockStep, 1, 2040, "video.blockiness.macroblock_step");
        Guard.Between(MacroblockStepCap, MacroblockStep, 2040, "video.blockiness.macroblock_step_cap");
        Guard.Between(Bridge, 0, 10, "video.blockiness.bridge");
    }
}
