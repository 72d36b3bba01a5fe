namespace Vigil.Detectors.Sync;

/// <summary>
/// Options of <see cref="AvSyncDetector"/>; tolerances from the event contract (ITU-R BT.1359). Each is
/// declared once, with its help and range.
/// </summary>
public sealed record AvSyncOptions : IDetectorOptions
{
    [Option("Audio ahead of the picture by more than this (ms) is a defect", Min = 0, Max = 10_000)]
    public double EarlyToleranceMs { get; init; } = 45;

    [Option("Audio behind the picture by more than this (ms) is a defect", Min = 0, Max = 10_000)]
    public double LateToleranceMs { get; init; } = 125;

    [Option("Seconds the offset must hold, steadily, before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 5.0;

    [Option("Seconds of audio and video correlated for one estimate (a sliding window)", Min = 2, Max = 120)]
    public double Window { get; init; } = 10.0;

    [Option("Seconds between estimates (≤ window)", Min = 0.1, Max = 120)]
    public double Step { get; init; } = 1.0;

    [Option("Largest offset searched, either way, in seconds", Min = 0.05, Max = 5)]
    public double MaxLag { get; init; } = 1.0;

    [Option("Audio and video events that must agree on the offset before a window counts as evidence", Min = 1, Max = 1000)]
    public int MinEvents { get; init; } = 3;

    [Option("The correlation peak must be this many times higher than the next candidate offset", Min = 1, Max = 100)]
    public double MinPeakRatio { get; init; } = 1.5;

    [Option("An estimate further than this (ms) from the running offset starts a new interval (the offset changed)", Min = 1, Max = 10_000)]
    public double ChangeMs { get; init; } = 40;

    [Option("Seconds without evidence (static picture, silence) an interval survives before it ends", Min = 0, Max = 3600)]
    public double MaxGap { get; init; } = 10.0;

    [Option("Seconds both tracks' timestamps must run continuously (no jump or gap, no corrupt packet or decode error) before a drift of the audio timestamps from its sample clock counts as evidence without content",
        Min = 1, Max = 3600)]
    public double TimestampSpan { get; init; } = 10.0;

    public void CheckCombination(OptionRules rules)
    {
        // estimates further apart than the window would leave stretches of media that no estimate sees
        rules.AtMost(nameof(Step), Step, nameof(Window), Window);
    }
}
