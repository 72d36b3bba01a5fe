namespace Vigil.Detectors.Audio;

/// <summary>Options of <see cref="ClippingDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record ClippingOptions : IDetectorOptions
{
    [Option("Seconds of flattened waveform, in total within the window, that make a defect (≤ window)", Min = 0.001, Max = 60)]
    public double MinClipped { get; init; } = 0.1;

    [Option("Length of the window the clipped time is summed over, in seconds", Min = 0.05, Max = 60)]
    public double Window { get; init; } = 1.0;

    [Option("Waveform tops above this level (dBFS) are examined; below it nothing counts as clipped", Min = -20, Max = -0.1)]
    public double LevelDb { get; init; } = -3;

    [Option("A top is flattened when it is this many times wider than a smooth peak of the same slopes would be", Min = 1.1, Max = 100)]
    public double Flatness { get; init; } = 3;

    public void CheckCombination(OptionRules rules)
    {
        // the clipped time is summed within one window: more than the window can never be reached
        rules.AtMost(nameof(MinClipped), MinClipped, nameof(Window), Window);
    }
}
