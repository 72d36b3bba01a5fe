namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="BlockinessDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record BlockinessOptions : IDetectorOptions
{
    [Option("Seconds of visible blocking before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 1.0;

    // clean pictures stay under 0.012 on the corpus
    [Option("A picture is blocky when this share of its 8×8 blocks is stepped on both the left and top edge, beyond the share stepped on their inner lines",
        Min = 0.0001, Max = 1)]
    public double Threshold { get; init; } = 0.015;

    [Option("A block edge is stepped when the step excess summed over its 8 pixels reaches this", Min = 1, Max = 2040)]
    public int BlockStep { get; init; } = 16;

    // 96 is 12 code values a pixel. A starved codec flattens smooth areas into a staircase of steps of a few
    // code values (the gradient it drops across 8 px), while graphics drawn on the grid (testsrc2's small
    // squares, on-screen boxes) step by tens.
    [Option("A block edge whose step excess summed over its 8 pixels exceeds this is a content edge, not blocking (≥ block_step)", Min = 1, Max = 2040)]
    public int BlockStepCap { get; init; } = 96;

    // For codecs with in-loop deblocking (H.264, HEVC). Summed over horizontal and vertical neighbours; clean
    // pictures of the corpus stay under 0.045, starved H.264 and HEVC over 0.069.
    [Option("Deblocked codecs: a picture is blocky when this share of neighbouring flat blocks differs by a patch step across the 16- or 32-px grid, beyond the share that does so 8 px off it",
        Min = 0.0001, Max = 4)]
    public double PatchThreshold { get; init; } = 0.05;

    // 112 is one code value a pair on average
    [Option("A block is flat inside when its activity (summed absolute difference of the 112 neighbouring pixel pairs inside it) stays under this",
        Min = 1, Max = 28560)]
    public int FlatActivity { get; init; } = 112;

    // less is the faint mottling encoders leave on grainy flat areas at ordinary quality
    [Option("Two flat neighbouring blocks form a patch step when their mean luma differs by at least this many code values", Min = 1.0 / 64, Max = 255)]
    public double PatchStep { get; init; } = 3;

    [Option("Mean luma differences above this (code values) are content edges (graphics), not quantiser steps (≥ patch_step)", Min = 1.0 / 64, Max = 255)]
    public double PatchStepCap { get; init; } = 20;

    [Option("Seconds of non-blocky pictures that do not break a blocky stretch (one cleaner frame)", Min = 0, Max = 10)]
    public double Bridge { get; init; } = 0.1;

    public void CheckCombination(OptionRules rules)
    {
        // a cap under the step would leave no step that counts
        rules.AtLeast(nameof(BlockStepCap), BlockStepCap, nameof(BlockStep), BlockStep);
        rules.AtLeast(nameof(PatchStepCap), PatchStepCap, nameof(PatchStep), PatchStep);
    }
}
