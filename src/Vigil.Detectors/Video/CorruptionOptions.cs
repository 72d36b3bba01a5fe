namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="CorruptionDetector"/>. Each is declared once, with its help and range.</summary>
public sealed record CorruptionOptions : IDetectorOptions
{
    [Option("A frame arriving this many nominal frame durations after the previous one means frames were lost", Min = 1.01, Max = 100)]
    public double GapFrames { get; init; } = 1.5;

    [Option("A block edge is stepped when the step excess summed over its 8 pixels reaches this", Min = 2, Max = 2040)]
    public int EdgeStep { get; init; } = 48;

    // damage the decoder did not notice: without bitstream evidence only a large share of broken blocks counts
    [Option("Share of 8×8 blocks newly broken (edges stepped, inside not) that starts a defect without bitstream evidence; 1 disables picture-only onsets",
        Min = 0.001, Max = 1)]
    public double PictureOnset { get; init; } = 0.06;

    // a flag alone is no defect: a clean real broadcast can carry hundreds
    [Option("Share of 8×8 blocks newly broken that confirms a packet the demuxer flagged corrupt (within a second of it)", Min = 0.0001, Max = 1)]
    public double LookOnset { get; init; } = 0.005;

    // new edges then belong to new content (a cut, a flash), not to damage
    [Option("A change of more than this (mean luma code values, median over blocks) means the whole picture changed", Min = 0, Max = 255)]
    public double GlobalChange { get; init; } = 6;

    [Option("Seconds a damage may propagate without a clean key frame or fresh evidence before it is considered healed", Min = 0.04, Max = 3600)]
    public double MaxPropagation { get; init; } = 10;
}
