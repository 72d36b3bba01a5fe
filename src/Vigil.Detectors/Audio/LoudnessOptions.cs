namespace Vigil.Detectors.Audio;

/// <summary>Loudness standards a programme is held to.</summary>
public enum LoudnessPreset
{
    /// <summary>EBU R128: −23 LUFS; alarm outside ±5 LU (the event contract's default).</summary>
    Ebu,
    /// <summary>ATSC A/85 (US): −24 LKFS ± 2 LU.</summary>
    Atsc,
}

/// <summary>
/// Options of <see cref="LoudnessDetector"/>; defaults from the event contract (EBU R128 preset). Each is
/// declared once, with its help and range.
/// </summary>
public sealed record LoudnessOptions : IDetectorOptions
{
    [Option("Standard giving the target and tolerance unless they are set")]
    public LoudnessPreset Preset { get; init; } = LoudnessPreset.Ebu;

    [Option("Target loudness in LUFS (default: the preset's)", Min = -70, Max = 0)]
    public double? Target { get; init; }

    [Option("Allowed deviation of short-term loudness from the target, in LU (default: the preset's)", Min = 0.1, Max = 40)]
    public double? Tolerance { get; init; }

    [Option("Seconds outside the band before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 10.0;

    /// <summary>The target in force: <see cref="Target"/> or the preset's.</summary>
    public double EffectiveTarget => Target ?? (Preset == LoudnessPreset.Atsc ? -24 : -23);

    /// <summary>The tolerance in force: <see cref="Tolerance"/> or the preset's.</summary>
    public double EffectiveTolerance => Tolerance ?? (Preset == LoudnessPreset.Atsc ? 2 : 5);
}
