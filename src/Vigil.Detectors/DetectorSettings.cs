namespace Vigil.Detectors;

/// <summary>
/// Detector thresholds given as <c>kind.option=value</c> (e.g. <c>video.freeze.min_duration=3</c>),
/// bound onto each detector's options record by its option table (<see cref="OptionTable{T}"/>).
/// </summary>
public sealed class DetectorSettings
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public static DetectorSettings Empty { get; } = new();

    public static DetectorSettings Parse(IEnumerable<string> assignments)
    {
        var settings = new DetectorSettings();
        foreach (var assignment in assignments)
        {
            var eq = assignment.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"'{assignment}': expected kind.option=value, e.g. video.freeze.min_duration=3");
            settings._values[assignment[..eq].Trim()] = assignment[(eq + 1)..].Trim();
        }
        return settings;
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The options for <paramref name="kind"/>: defaults overridden by any settings for it, validated.</summary>
    public T Bind<T>(string kind) where T : IDetectorOptions, new() => OptionTable<T>.Bind(kind, this);
}
