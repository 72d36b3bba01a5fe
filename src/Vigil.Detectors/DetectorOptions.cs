using System.Globalization;
using System.Reflection;
using System.Text;

namespace Vigil.Detectors;

/// <summary>
/// Options of one detector: an immutable record with the contract's defaults. Each option is an init
/// property declared with <see cref="OptionAttribute"/>; binding from settings validates the record once
/// (<see cref="OptionTable{T}"/>), so a detector never sees a value out of range.
/// </summary>
public interface IDetectorOptions
{
    /// <summary>
    /// Checks the rules between options, which no single option's range can state (a ceiling that must not
    /// sit under its floor). Each option's own range is declared on it and checked before this.
    /// </summary>
    void CheckCombination(OptionRules rules)
    {
    }
}

/// <summary>
/// Declares one detector option on its init property, as an entry of libavfilter's option tables does:
/// the property's name in snake_case is the option's name (<c>MinDuration</c> → <c>min_duration</c>), its
/// initial value is the default, and this attribute gives the help text and, for numbers, the accepted
/// range (both ends included). Binding, validation, <c>vigil detectors</c> and <c>GET /api/detectors</c>
/// all read this one declaration.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string help) : Attribute
{
    /// <summary>What the option does, in one sentence (printed by <c>vigil detectors</c>).</summary>
    public string Help { get; } = help;

    /// <summary>Lowest accepted value; required for numbers.</summary>
    public double Min { get; set; } = double.NaN;

    /// <summary>Highest accepted value; required for numbers.</summary>
    public double Max { get; set; } = double.NaN;
}

/// <summary>One declared option: its name, help, default and accepted values, for binding and help text.</summary>
public sealed class DetectorOption
{
    internal DetectorOption(PropertyInfo property, OptionAttribute declaration, object? defaultValue)
    {
        Property = property;
        Name = OptionNames.SnakeCase(property.Name);
        Help = declaration.Help;
        ValueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        Default = Convert.ToString(defaultValue, CultureInfo.InvariantCulture) ?? "";
        IsNumber = ValueType == typeof(double) || ValueType == typeof(int);
        var declaresRange = !double.IsNaN(declaration.Min) || !double.IsNaN(declaration.Max);
        if (IsNumber ? double.IsNaN(declaration.Min) || double.IsNaN(declaration.Max) : declaresRange)
            throw new InvalidOperationException($"{property.DeclaringType?.Name}.{property.Name}: a number option declares Min and Max, any other none");
        Min = declaration.Min;
        Max = declaration.Max;
        Range = IsNumber ? $"{OptionNames.Number(Min)} to {OptionNames.Number(Max)}"
            : ValueType.IsEnum ? string.Join(" | ", Enum.GetNames(ValueType).Select(n => n.ToLowerInvariant()))
            : ValueType == typeof(RegionMask) ? "x,y,w,h[;…] fractions"
            : ValueType == typeof(bool) ? "true | false"
            : "text";
    }

    /// <summary>The option's name after the kind: <c>min_duration</c> in <c>video.black.min_duration</c>.</summary>
    public string Name { get; }

    public string Help { get; }

    /// <summary>The default as text (invariant culture); empty when there is none (derived from another option).</summary>
    public string Default { get; }

    /// <summary>The accepted values as text: <c>0 to 3600</c>, <c>ebu | atsc</c>, the mask format.</summary>
    public string Range { get; }

    /// <summary>Lowest accepted value of a number (NaN otherwise).</summary>
    public double Min { get; }

    /// <summary>Highest accepted value of a number (NaN otherwise).</summary>
    public double Max { get; }

    /// <summary>The value's type, without <see cref="Nullable{T}"/>.</summary>
    public Type ValueType { get; }

    internal bool IsNumber { get; }

    internal PropertyInfo Property { get; }

    /// <summary>Parses <paramref name="text"/> as this option's type; throws <see cref="ArgumentException"/> naming <paramref name="key"/>.</summary>
    internal object Parse(string key, string text)
    {
        try
        {
            if (ValueType == typeof(double)) return double.Parse(text, CultureInfo.InvariantCulture);
            if (ValueType == typeof(int)) return int.Parse(text, CultureInfo.InvariantCulture);
            if (ValueType == typeof(bool)) return bool.Parse(text);
            if (ValueType == typeof(string)) return text;
            if (ValueType.IsEnum) return Enum.Parse(ValueType, text, ignoreCase: true);
            if (ValueType == typeof(RegionMask)) return RegionMask.Parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            var accepted = ValueType.IsEnum ? $" ({Range})" : "";
            throw new ArgumentException($"{key}: '{text}' is not a valid {ValueType.Name}{accepted}");
        }
        throw new InvalidOperationException($"{key}: options of type {ValueType.Name} cannot be set");
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="key"/> and the range when <paramref name="value"/> is outside it.</summary>
    internal void Check(string key, object? value)
    {
        if (value is null) return; // an optional value left unset
        if (IsNumber)
        {
            var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            if (!(number >= Min && number <= Max)) // NaN fails too
                throw new ArgumentException($"{key} must be between {OptionNames.Number(Min)} and {OptionNames.Number(Max)} (got {OptionNames.Number(number)})");
        }
        else if (ValueType.IsEnum && !Enum.IsDefined(ValueType, value))
        {
            throw new ArgumentException($"{key} must be one of {Range} (got {value})");
        }
    }
}

/// <summary>
/// The option table of one options record, read once from its declarations: binds <c>kind.option=value</c>
/// settings onto a fresh record and validates it.
/// </summary>
public static class OptionTable<T> where T : IDetectorOptions, new()
{
    private static readonly Dictionary<string, DetectorOption> ByName;
    private static readonly Dictionary<string, DetectorOption> ByProperty;

    static OptionTable()
    {
        var defaults = new T();
        var options = new List<DetectorOption>();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var declaration = property.GetCustomAttribute<OptionAttribute>()
                ?? throw new InvalidOperationException($"{typeof(T).Name}.{property.Name} is settable but not declared with [Option]");
            options.Add(new DetectorOption(property, declaration, property.GetValue(defaults)));
        }
        Options = options;
        ByName = options.ToDictionary(o => o.Name, StringComparer.OrdinalIgnoreCase);
        ByProperty = options.ToDictionary(o => o.Property.Name, StringComparer.Ordinal);
    }

    /// <summary>Every option of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<DetectorOption> Options { get; }

    /// <summary>A record with the defaults overridden by the settings for <paramref name="kind"/>, validated.</summary>
    public static T Bind(string kind, DetectorSettings settings)
    {
        var options = new T();
        foreach (var (key, value) in settings.Values)
        {
            if (!key.StartsWith(kind + ".", StringComparison.OrdinalIgnoreCase)) continue;
            var name = key[(kind.Length + 1)..];
            if (!ByName.TryGetValue(name, out var option))
                throw new ArgumentException($"{kind} has no option '{name}' (options: {string.Join(", ", Options.Select(o => o.Name))})");
            option.Property.SetValue(options, option.Parse(key, value)); // before the record is handed out: it stays immutable to its users
        }
        Validate(options, kind);
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option and its range when a value of <paramref name="options"/> is not accepted.</summary>
    public static void Validate(T options, string kind)
    {
        foreach (var option in Options) option.Check($"{kind}.{option.Name}", option.Property.GetValue(options));
        options.CheckCombination(new OptionRules(kind, ByProperty));
    }
}

/// <summary>
/// Rules between two options of one record (<see cref="IDetectorOptions.CheckCombination"/>): a refusal names
/// the option, the range it has given the other, and the other option.
/// </summary>
public readonly struct OptionRules
{
    private readonly string _kind;
    private readonly IReadOnlyDictionary<string, DetectorOption> _byProperty;

    internal OptionRules(string kind, IReadOnlyDictionary<string, DetectorOption> byProperty)
    {
        _kind = kind;
        _byProperty = byProperty;
    }

    /// <summary>Refuses <paramref name="value"/> of <paramref name="property"/> below <paramref name="floor"/>, the value of <paramref name="floorProperty"/>.</summary>
    public void AtLeast(string property, double value, string floorProperty, double floor)
    {
        if (value >= floor) return;
        var option = _byProperty[property];
        throw new ArgumentException(
            $"{_kind}.{option.Name} must be between {OptionNames.Number(floor)} ({_byProperty[floorProperty].Name}) and {OptionNames.Number(option.Max)} (got {OptionNames.Number(value)})");
    }

    /// <summary>Refuses <paramref name="value"/> of <paramref name="property"/> above <paramref name="ceiling"/>, the value of <paramref name="ceilingProperty"/>.</summary>
    public void AtMost(string property, double value, string ceilingProperty, double ceiling)
    {
        if (value <= ceiling) return;
        var option = _byProperty[property];
        throw new ArgumentException(
            $"{_kind}.{option.Name} must be between {OptionNames.Number(option.Min)} and {OptionNames.Number(ceiling)} ({_byProperty[ceilingProperty].Name}) (got {OptionNames.Number(value)})");
    }
}

/// <summary>How options are named and their numbers written.</summary>
internal static class OptionNames
{
    /// <summary><c>MinDuration</c> → <c>min_duration</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>Shortest text that reads back as the same number, invariant culture.</summary>
    public static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
