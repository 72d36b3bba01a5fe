namespace Vigil.Detectors.Audio;

/// <summary>Options of <see cref="ClippingDetector"/>; defaults from the event contract.</summary>
public sealed record ClippingOptions : IDetectorOptions
{
    /// <summary>Seconds of flattened waveform, in total within <see cref="Window"/>, that make a defect.</summary>
    public double MinClipped { get; init; } = 0.1;
    /// <summary>Length of the window the clipped time is summed over, in seconds.</summary>
    public double Window { get; init; } = 1.0;
    /// <summary>Waveform tops above this level (dBFS) are examined; below it nothing counts as clipped.</summary>
    public double LevelDb { get; init; } = -3;
    /// <summary>A top is flattened when it is this many times wider than a smooth peak of the same slopes would be.</summary>
    public double Flatness { get; init; } = 3;

    public void Validate()
    {
        Guard.Between(Window, 0.05, 60, "audio.clipping.window");
        Guard.Between(MinClipped, 0.001, Window, "audio.clipping.min_clipped");
        Guard.Between(LevelDb, -20, -0.1, "audio.clipping.level_db");
        Guard.Between(Flatness, 1.1, 100, "audio.clipping.flatness");
    }
}
