namespace Vigil.Detectors.Audio;

/// <summary>Options of <see cref="SilenceDetector"/>; defaults from the event contract.</summary>
public sealed record SilenceOptions : IDetectorOptions
{
    /// <summary>A channel is silent while its level (RMS over 10 ms) is below this, in dBFS.</summary>
    public double ThresholdDb { get; init; } = -60;
    /// <summary>Seconds of silence before it is a defect.</summary>
    public double MinDuration { get; init; } = 2.0;
    /// <summary>Sounds shorter than this (clicks, pops) do not end a silence, in seconds.</summary>
    public double MaxClick { get; init; } = 0.03;

    public void Validate()
    {
        Guard.Between(ThresholdDb, -200, 0, "audio.silence.threshold_db");
        Guard.Between(MinDuration, 0, 3600, "audio.silence.min_duration");
        Guard.Between(MaxClick, 0, 1, "audio.silence.max_click");
    }
}
