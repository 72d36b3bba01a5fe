using System.Globalization;
using System.Reflection;
using System.Text;

namespace Vigil.Detectors;

/// <summary>Options of one detector: an immutable record with the contract's defaults, validated once.</summary>
public interface IDetectorOptions
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the option when a value is out of range.</summary>
    void Validate();
}

/// <summary>
/// Detector thresholds given as <c>kind.option=value</c> (e.g. <c>video.freeze.min_duration=3</c>),
/// bound onto each detector's options record by snake_case property name.
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
    public T Bind<T>(string kind) where T : IDetectorOptions, new()
    {
        var options = new T();
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .ToDictionary(p => SnakeCase(p.Name), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in _values)
        {
            if (!key.StartsWith(kind + ".", StringComparison.OrdinalIgnoreCase)) continue;
            var name = key[(kind.Length + 1)..];
            if (!properties.TryGetValue(name, out var property))
                throw new ArgumentException($"{kind} has no option '{name}' (options: {string.Join(", ", properties.Keys)})");
            try
            {
                property.SetValue(options, Convert(value, property.PropertyType));
            }
            catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
            {
                throw new ArgumentException($"{key}: '{value}' is not a valid {property.PropertyType.Name}");
            }
        }
        options.Validate();
        return options;
    }

    /// <summary>Every settable option of <typeparamref name="T"/> with its default, for help text.</summary>
    public static IEnumerable<(string Name, string Default)> Describe<T>() where T : IDetectorOptions, new()
    {
        var defaults = new T();
        return typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .Select(p => (SnakeCase(p.Name), System.Convert.ToString(p.GetValue(defaults), CultureInfo.InvariantCulture) ?? ""));
    }

    private static object Convert(string value, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type; // an optional value (null default: derived from another option)
        if (type == typeof(double)) return double.Parse(value, CultureInfo.InvariantCulture);
        if (type == typeof(int)) return int.Parse(value, CultureInfo.InvariantCulture);
        if (type == typeof(bool)) return bool.Parse(value);
        if (type == typeof(string)) return value;
        if (type.IsEnum) return Enum.Parse(type, value, ignoreCase: true);
        if (type == typeof(RegionMask)) return RegionMask.Parse(value);
        throw new InvalidCastException();
    }

    internal static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>Validation helpers in the style of a guard clause.</summary>
internal static class Guard
{
    public static void Between(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max)) throw new ArgumentException($"{name} must be between {min} and {max} (got {value})");
    }
}
