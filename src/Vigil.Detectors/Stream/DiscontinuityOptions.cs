namespace Vigil.Detectors.Stream;

/// <summary>Options of <see cref="DiscontinuityDetector"/>.</summary>
public sealed record DiscontinuityOptions : IDetectorOptions
{
    /// <summary>Missing video shorter than this is not reported (one dropped frame at 25 fps is 0.04 s).</summary>
    public double MinGap { get; init; } = 0.1;
    /// <summary>Events closer than this merge into one defect (a burst of continuity errors is one incident).</summary>
    public double Merge { get; init; } = 1.0;

    public void Validate()
    {
        Guard.Between(MinGap, 0, 3600, "stream.discontinuity.min_gap");
        Guard.Between(Merge, 0, 60, "stream.discontinuity.merge");
    }
}
