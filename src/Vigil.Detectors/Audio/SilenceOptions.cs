namespace Vigil.Detectors.Audio;

/// <summary>Options of <see cref="SilenceDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record SilenceOptions : IDetectorOptions
{
    [Option("A channel is silent while its level (RMS over 10 ms) is below this, in dBFS", Min = -200, Max = 0)]
    public double ThresholdDb { get; init; } = -60;

    [Option("Seconds of silence before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 2.0;

    [Option("Sounds shorter than this (clicks, pops) do not end a silence, in seconds", Min = 0, Max = 1)]
    public double MaxClick { get; init; } = 0.03;

    [Option("Also report a dead LFE (low-frequency effects) channel; off: an LFE is silent through most programmes")]
    public bool IncludeLfe { get; init; }

    [Option("Also report a dead surround (back, side, top) channel; off: surrounds go quiet in dialogue and stay silent for stereo carried in 5.1")]
    public bool IncludeSurrounds { get; init; }
}
