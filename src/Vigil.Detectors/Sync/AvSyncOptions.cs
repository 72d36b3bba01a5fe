namespace Vigil.Detectors.Sync;

/// <summary>Options of <see cref="AvSyncDetector"/>; tolerances from the event contract (ITU-R BT.1359).</summary>
public sealed record AvSyncOptions : IDetectorOptions
{
    /// <summary>Audio ahead of the picture by more than this (ms) is a defect.</summary>
    public double EarlyToleranceMs { get; init; } = 45;
    /// <summary>Audio behind the picture by more than this (ms) is a defect.</summary>
    public double LateToleranceMs { get; init; } = 125;
    /// <summary>Seconds the offset must hold, steadily, before it is a defect.</summary>
    public double MinDuration { get; init; } = 5.0;
    /// <summary>Seconds of audio and video correlated for one estimate (a sliding window).</summary>
    public double Window { get; init; } = 10.0;
    /// <summary>Seconds between estimates.</summary>
    public double Step { get; init; } = 1.0;
    /// <summary>Largest offset searched, either way, in seconds.</summary>
    public double MaxLag { get; init; } = 1.0;
    /// <summary>Audio and video events that must agree on the offset before a window counts as evidence.</summary>
    public int MinEvents { get; init; } = 3;
    /// <summary>The correlation peak must be this many times higher than the next candidate offset.</summary>
    public double MinPeakRatio { get; init; } = 1.5;
    /// <summary>An estimate further than this (ms) from the running offset starts a new interval (the offset changed).</summary>
    public double ChangeMs { get; init; } = 40;
    /// <summary>Seconds without evidence (static picture, silence) an interval survives before it ends.</summary>
    public double MaxGap { get; init; } = 10.0;
    /// <summary>
    /// Seconds both tracks' timestamps must run continuously (no jump or gap, no corrupt packet or decode error)
    /// before a drift of the audio timestamps from its sample clock counts as evidence without content.
    /// </summary>
    public double TimestampSpan { get; init; } = 10.0;

    public void Validate()
    {
        Guard.Between(EarlyToleranceMs, 0, 10_000, "av.sync.early_tolerance_ms");
        Guard.Between(LateToleranceMs, 0, 10_000, "av.sync.late_tolerance_ms");
        Guard.Between(MinDuration, 0, 3600, "av.sync.min_duration");
        Guard.Between(Window, 2, 120, "av.sync.window");
        Guard.Between(Step, 0.1, Window, "av.sync.step");
        Guard.Between(MaxLag, 0.05, 5, "av.sync.max_lag");
        Guard.Between(MinEvents, 1, 1000, "av.sync.min_events");
        Guard.Between(MinPeakRatio, 1, 100, "av.sync.min_peak_ratio");
        Guard.Between(ChangeMs, 1, 10_000, "av.sync.change_ms");
        Guard.Between(MaxGap, 0, 3600, "av.sync.max_gap");
        Guard.Between(TimestampSpan, 1, 3600, "av.sync.timestamp_span");
    }
}
