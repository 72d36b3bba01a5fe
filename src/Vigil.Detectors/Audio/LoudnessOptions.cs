namespace Vigil.Detectors.Audio;

/// <summary>Loudness standards a programme is held to.</summary>
public enum LoudnessPreset
{
    /// <summary>EBU R128: −23 LUFS; alarm outside ±5 LU (the event contract's default).</summary>
    Ebu,
    /// <summary>ATSC A/85 (US): −24 LKFS ± 2 LU.</summary>
    Atsc,
}

/// <summary>Options of <see cref="LoudnessDetector"/>; defaults from the event contract (EBU R128 preset).</summary>
public sealed record LoudnessOptions : IDetectorOptions
{
    /// <summary>Standard giving the target and tolerance unless they are set: <c>ebu</c> or <c>atsc</c>.</summary>
    public LoudnessPreset Preset { get; init; } = LoudnessPreset.Ebu;
    /// <summary>Target loudness in LUFS (default: the preset's).</summary>
    public double? Target { get; init; }
    /// <summary>Allowed deviation of short-term loudness from the target, in LU (default: the preset's).</summary>
    public double? Tolerance { get; init; }
    /// <summary>Seconds outside the band before it is a defect.</summary>
    public double MinDuration { get; init; } = 10.0;

    /// <summary>The target in force: <see cref="Target"/> or the preset's.</summary>
    public double EffectiveTarget => Target ?? (Preset == LoudnessPreset.Atsc ? -24 : -23);

    /// <summary>The tolerance in force: <see cref="Tolerance"/> or the preset's.</summary>
    public double EffectiveTolerance => Tolerance ?? (Preset == LoudnessPreset.Atsc ? 2 : 5);

    public void Validate()
    {
        if (!Enum.IsDefined(Preset)) throw new ArgumentException($"audio.loudness.preset must be ebu or atsc (got {Preset})");
        Guard.Between(EffectiveTarget, -70, 0, "audio.loudness.target");
        Guard.Between(EffectiveTolerance, 0.1, 40, "audio.loudness.tolerance");
        Guard.Between(MinDuration, 0, 3600, "audio.loudness.min_duration");
    }
}
