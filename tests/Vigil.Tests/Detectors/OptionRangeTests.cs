using System.Globalization;
using Vigil.Detectors;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Every option of every detector, written out by hand: its name, its default and the values it accepts
/// (with the other options at their defaults), probed through the same path as <c>--set</c>. The list is
/// deliberately not derived from the declarations: it pins what users can type, so a declaration that
/// changes a name, a default or a bound fails here.
/// </summary>
public sealed class OptionRangeTests
{
    /// <summary>
    /// One option: key, default as listed, lowest and highest accepted value, and which option a refusal
    /// names below / above (itself, unless a rule between options is what refuses). <paramref name="Listed"/>:
    /// the range <c>vigil detectors</c> lists when a rule between options narrows it (the help then says so).
    /// </summary>
    public sealed record Expected(string Key, string Default, double Min, double Max, bool Integer = false,
        string? BlamedBelow = null, string? BlamedAbove = null, string? Listed = null)
    {
        /// <summary>The range as <c>vigil detectors</c> lists it.</summary>
        public string ListedRange => Listed ?? $"{Text(Min)} to {Text(Max)}";
    }

    public static readonly Expected[] Numeric =
    [
        new("video.black.min_duration", "1", 0, 3600),
        new("video.black.pixel_threshold", "0.1", 0, 1),
        new("video.black.picture_threshold", "0.98", 0, 1),
        new("video.black.max_detail", "3", 0, 255),
        new("video.black.logo_area", "0.1", 0, 1),
        new("video.freeze.min_duration", "2", 0, 3600),
        new("video.freeze.min_cell_change", "3", 0, 12, BlamedAbove: "video.freeze.max_cell_change", Listed: "0 to 255"),
        new("video.freeze.max_cell_change", "12", 3, 255, Listed: "0 to 255"),
        new("video.freeze.min_texture_change", "8", 0, 20, BlamedAbove: "video.freeze.max_texture_change", Listed: "0 to 255"),
        new("video.freeze.max_texture_change", "20", 8, 255, Listed: "0 to 255"),
        new("video.freeze.min_changed_cells", "2", 1, 100_000, Integer: true),
        new("video.freeze.min_global_change", "1.5", 0, 255),
        new("video.corruption.gap_frames", "1.5", 1.01, 100),
        new("video.corruption.edge_step", "48", 2, 2040, Integer: true),
        new("video.corruption.picture_onset", "0.06", 0.001, 1),
        new("video.corruption.look_onset", "0.005", 0.0001, 1),
        new("video.corruption.global_change", "6", 0, 255),
        new("video.corruption.max_propagation", "10", 0.04, 3600),
        new("video.blockiness.min_duration", "1", 0, 3600),
        new("video.blockiness.threshold", "0.015", 0.0001, 1),
        new("video.blockiness.block_step", "16", 1, 96, Integer: true, BlamedAbove: "video.blockiness.block_step_cap", Listed: "1 to 2040"),
        new("video.blockiness.block_step_cap", "96", 16, 2040, Integer: true, Listed: "1 to 2040"),
        new("video.blockiness.patch_threshold", "0.05", 0.0001, 4),
        new("video.blockiness.flat_activity", "112", 1, 28560, Integer: true),
        new("video.blockiness.patch_step", "3", 1.0 / 64, 20, BlamedAbove: "video.blockiness.patch_step_cap", Listed: "0.015625 to 255"),
        new("video.blockiness.patch_step_cap", "20", 3, 255, Listed: "0.015625 to 255"),
        new("video.blockiness.bridge", "0.1", 0, 10),
        new("audio.silence.threshold_db", "-60", -200, 0),
        new("audio.silence.min_duration", "2", 0, 3600),
        new("audio.silence.max_click", "0.03", 0, 1),
        new("audio.loudness.target", "", -70, 0),
        new("audio.loudness.tolerance", "", 0.1, 40),
        new("audio.loudness.min_duration", "10", 0, 3600),
        new("audio.clipping.min_clipped", "0.1", 0.001, 1, Listed: "0.001 to 60"),
        new("audio.clipping.window", "1", 0.1, 60, BlamedBelow: "audio.clipping.min_clipped", Listed: "0.05 to 60"),
        new("audio.clipping.level_db", "-3", -20, -0.1),
        new("audio.clipping.flatness", "0.56", 0.5, 0.95),
        new("av.sync.early_tolerance_ms", "45", 0, 10_000),
        new("av.sync.late_tolerance_ms", "125", 0, 10_000),
        new("av.sync.min_duration", "5", 0, 3600),
        new("av.sync.window", "10", 2, 120),
        new("av.sync.step", "1", 0.1, 10, Listed: "0.1 to 120"),
        new("av.sync.max_lag", "1", 0.05, 5),
        new("av.sync.min_events", "3", 1, 1000, Integer: true),
        new("av.sync.min_peak_ratio", "1.5", 1, 100),
        new("av.sync.change_ms", "40", 1, 10_000),
        new("av.sync.max_gap", "10", 0, 3600),
        new("av.sync.timestamp_span", "10", 1, 3600),
        new("stream.discontinuity.min_gap", "0.1", 0, 3600),
        new("stream.discontinuity.merge", "1", 0, 60),
        new("ts.pcr_accuracy_error.arrival_accuracy", "0.002", 0.0001, 1),
    ];

    /// <summary>The options that are not numbers, with their defaults as listed.</summary>
    public static readonly (string Key, string Default)[] Other =
    [
        ("video.black.mask", ""),
        ("video.freeze.mask", ""),
        ("audio.silence.include_lfe", "False"),
        ("audio.silence.include_surrounds", "False"),
        ("audio.loudness.preset", "Ebu"),
    ];

    public static TheoryData<string> NumericKeys => new(Numeric.Select(e => e.Key));

    private static Expected Find(string key) => Numeric.Single(e => e.Key == key);

    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Binds <c>key=value</c> through the catalog and returns the value the options record holds for it.</summary>
    private static object? Bound(string assignment)
    {
        var eq = assignment.IndexOf('=');
        var key = assignment[..eq];
        var descriptor = DetectorCatalog.All.Single(d => key.StartsWith(d.Kind + ".", StringComparison.OrdinalIgnoreCase));
        var settings = DetectorSettings.Parse([assignment]);
        DetectorCatalog.Validate(settings);
        var option = descriptor.Options.Single(o => o.Name.Equals(key[(descriptor.Kind.Length + 1)..], StringComparison.OrdinalIgnoreCase));
        return option.Property.GetValue(descriptor.BindOptions(settings));
    }

    private static void Accept(string key, double value) => Assert.Equal(value, Convert.ToDouble(Bound($"{key}={Text(value)}"), CultureInfo.InvariantCulture));

    private static string Refuse(string key, double value) =>
        Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse([$"{key}={Text(value)}"]))).Message;

    [Fact]
    public void Catalog_ListsExactlyTheseOptionsWithTheseDefaults()
    {
        var listed = DetectorCatalog.All.SelectMany(d => d.Options.Select(o => (Key: $"{d.Kind}.{o.Name}", o.Default))).ToList();
        var expected = Numeric.Select(e => (e.Key, e.Default)).Concat(Other).ToList();
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), listed.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(NumericKeys))]
    public void Validate_BoundsOfTheRange_AreAccepted(string key)
    {
        var e = Find(key);
        Accept(key, e.Min);
        Accept(key, e.Max);
    }

    [Theory]
    [MemberData(nameof(NumericKeys))]
    public void Validate_JustOutsideTheRange_IsRefusedNamingTheOptionAndItsRange(string key)
    {
        var e = Find(key);
        var step = e.Integer ? 1 : Math.Max(Math.Abs(e.Min), 1e-3) * 1e-3;
        var below = Refuse(key, e.Min - step);
        Assert.Contains($"{e.BlamedBelow ?? key} must be between", below);
        if (e.BlamedBelow is null) Assert.Contains($"between {Text(e.Min)} ", below);
        step = e.Integer ? 1 : Math.Max(Math.Abs(e.Max), 1e-3) * 1e-3;
        var above = Refuse(key, e.Max + step);
        Assert.Contains($"{e.BlamedAbove ?? key} must be between", above);
        if (e.BlamedAbove is null) Assert.Contains($" and {Text(e.Max)} ", above);
    }

    /// <summary>Every number option as declared: a new option is covered here before anyone writes its expectation above.</summary>
    public static TheoryData<string, string> DeclaredNumbers
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var d in DetectorCatalog.All)
                foreach (var o in d.Options.Where(o => o.ValueType == typeof(double) || o.ValueType == typeof(int)))
                    data.Add(d.Kind, o.Name);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(DeclaredNumbers))]
    public void Validate_OutsideTheDeclaredRange_IsRefusedNamingTheOptionAndTheDeclaredRange(string kind, string name)
    {
        var o = DetectorCatalog.All.Single(d => d.Kind == kind).Options.Single(x => x.Name == name);
        Assert.True(double.IsFinite(o.Min) && double.IsFinite(o.Max) && o.Min < o.Max, $"{kind}.{name}: range {o.Min} to {o.Max}");
        Assert.Equal($"{Text(o.Min)} to {Text(o.Max)}", o.Range);
        var integer = o.ValueType == typeof(int);
        foreach (var outside in new[] { o.Min - (integer ? 1 : Math.Max(Math.Abs(o.Min), 1e-3) * 1e-3), o.Max + (integer ? 1 : Math.Max(Math.Abs(o.Max), 1e-3) * 1e-3) })
            Assert.Contains($"{kind}.{name} must be between {Text(o.Min)} and {Text(o.Max)} (got {Text(outside)})", Refuse($"{kind}.{name}", outside));
    }

    [Theory]
    [MemberData(nameof(NumericKeys))]
    public void Validate_NotANumber_IsRefused(string key)
    {
        Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse([$"{key}=NaN"])));
        Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse([$"{key}=x"])));
    }

    [Theory]
    [InlineData("video.freeze.min_changed_cells=2.5")]
    [InlineData("video.blockiness.block_step=16.5")]
    [InlineData("av.sync.min_events=3.0")]
    public void Validate_FractionForAnIntegerOption_IsRefused(string assignment)
    {
        Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse([assignment])));
    }

    [Theory]
    [InlineData("video.freeze.max_cell_change=20", "video.freeze.min_cell_change=20")] // a ceiling may equal its floor
    [InlineData("video.blockiness.block_step=200", "video.blockiness.block_step_cap=200")]
    [InlineData("video.blockiness.patch_step=40", "video.blockiness.patch_step_cap=40")]
    [InlineData("audio.clipping.window=0.05", "audio.clipping.min_clipped=0.05")]
    [InlineData("av.sync.window=2", "av.sync.step=2")]
    [InlineData("audio.loudness.preset=atsc", "audio.loudness.target=-16")]
    [InlineData("audio.loudness.preset=ATSC")]
    [InlineData("video.black.mask=0.8,0,0.2,0.1;0,0.9,1,0.1")]
    public void Validate_CombinationsWithinTheRules_AreAccepted(params string[] assignments)
    {
        var settings = DetectorSettings.Parse(assignments);
        DetectorCatalog.Validate(settings);
        foreach (var assignment in assignments)
        {
            // each value is bound as given (in the option's own type: a number, a preset, a mask)
            var (key, text) = (assignment[..assignment.IndexOf('=')], assignment[(assignment.IndexOf('=') + 1)..]);
            var descriptor = DetectorCatalog.All.Single(d => key.StartsWith(d.Kind + ".", StringComparison.Ordinal));
            var option = descriptor.Options.Single(o => o.Name == key[(descriptor.Kind.Length + 1)..]);
            var value = option.Property.GetValue(descriptor.BindOptions(settings));
            Assert.Equal(text.ToLowerInvariant(), Convert.ToString(value, CultureInfo.InvariantCulture)!.ToLowerInvariant());
        }
    }

    [Theory]
    [InlineData("video.freeze.max_cell_change must be between 5", "video.freeze.min_cell_change=5", "video.freeze.max_cell_change=4")]
    [InlineData("video.blockiness.block_step_cap must be between 100", "video.blockiness.block_step=100", "video.blockiness.block_step_cap=99")]
    [InlineData("audio.clipping.min_clipped must be between 0.001 and 0.5", "audio.clipping.window=0.5", "audio.clipping.min_clipped=0.6")]
    [InlineData("av.sync.step must be between 0.1 and 3", "av.sync.window=3", "av.sync.step=4")]
    [InlineData("audio.loudness.preset", "audio.loudness.preset=7")]
    [InlineData("audio.loudness.preset", "audio.loudness.preset=nab")]
    [InlineData("video.freeze.mask", "video.freeze.mask=0.5,0.5,0.7")]
    public void Validate_CombinationsBreakingARule_AreRefusedNamingIt(string message, params string[] assignments)
    {
        var error = Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse(assignments)));
        Assert.Contains(message, error.Message);
    }
}
