namespace Vigil.Detectors.Stream;

/// <summary>Options of <see cref="DiscontinuityDetector"/>. Each is declared once, with its help and range.</summary>
public sealed record DiscontinuityOptions : IDetectorOptions
{
    [Option("Missing video shorter than this is not reported (one dropped frame at 25 fps is 0.04 s)", Min = 0, Max = 3600)]
    public double MinGap { get; init; } = 0.1;

    [Option("Events closer than this merge into one defect (a burst of continuity errors is one incident)", Min = 0, Max = 60)]
    public double Merge { get; init; } = 1.0;
}
