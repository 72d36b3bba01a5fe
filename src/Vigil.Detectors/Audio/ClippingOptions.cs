namespace Vigil.Detectors.Audio;

/// <summary>Options of <see cref="ClippingDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record ClippingOptions : IDetectorOptions
{
    [Option("Seconds of clipped 10 ms units, in total within the window, that make a defect (≤ window)", Min = 0.001, Max = 60)]
    public double MinClipped { get; init; } = 0.1;

    [Option("Length of the window the clipped time is summed over, in seconds", Min = 0.05, Max = 60)]
    public double Window { get; init; } = 1.0;

    [Option("Waveform tops above this level (dBFS) are examined; below it nothing counts as clipped", Min = -20, Max = -0.1)]
    public double LevelDb { get; init; } = -3;

    [Option("A top is flattened when its time above 85 % of its peak is at least this share of its time above 40 % (any smooth peak: at most 0.5; a sine clipped 1 dB over full scale: 0.59)",
        Min = 0.5, Max = 0.95)]
    public double Flatness { get; init; } = 0.56;

    public void CheckCombination(OptionRules rules)
    {
        // the clipped time is summed within one window: more than the window can never be reached
        rules.AtMost(nameof(MinClipped), MinClipped, nameof(Window), Window);
    }
}
