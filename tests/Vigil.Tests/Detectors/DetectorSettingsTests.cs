using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Video;

namespace Vigil.Tests.Detectors;

/// <summary>Binding <c>kind.option=value</c> onto options records, and the errors a typo must produce.</summary>
public sealed class DetectorSettingsTests
{
    [Fact]
    public void Bind_NoSettings_GivesContractDefaults()
    {
        var black = DetectorSettings.Empty.Bind<BlackOptions>(BlackDetector.KindName);
        Assert.Equal(1.0, black.MinDuration);
        Assert.Equal(0.10, black.PixelThreshold);
        Assert.Equal(0.98, black.PictureThreshold);
        Assert.Equal(2.0, DetectorSettings.Empty.Bind<FreezeOptions>(FreezeDetector.KindName).MinDuration);
        var silence = DetectorSettings.Empty.Bind<SilenceOptions>(SilenceDetector.KindName);
        Assert.Equal(-60, silence.ThresholdDb);
        Assert.Equal(2.0, silence.MinDuration);
    }

    [Fact]
    public void Bind_SnakeCaseNames_SetTheirOwnKindOnly()
    {
        var settings = DetectorSettings.Parse([
            "video.freeze.min_duration=3.5", "VIDEO.FREEZE.MIN_CHANGED_CELLS = 4", "video.freeze.mask=0.8,0.0,0.2,0.1",
            "audio.silence.threshold_db=-70",
        ]);
        var freeze = settings.Bind<FreezeOptions>(FreezeDetector.KindName);
        Assert.Equal(3.5, freeze.MinDuration);
        Assert.Equal(4, freeze.MinChangedCells);
        var region = Assert.Single(freeze.Mask.Regions);
        Assert.Equal((0.8, 0.0, 0.2, 0.1), region);
        Assert.Equal(-70, settings.Bind<SilenceOptions>(SilenceDetector.KindName).ThresholdDb);
        // video.black is untouched by the freeze settings
        Assert.Equal(1.0, settings.Bind<BlackOptions>(BlackDetector.KindName).MinDuration);
    }

    [Theory]
    [InlineData("video.black.min_duration=-1", "video.black.min_duration must be between")]
    [InlineData("video.black.pixel_threshold=1.5", "video.black.pixel_threshold must be between")]
    [InlineData("audio.silence.threshold_db=3", "audio.silence.threshold_db must be between")]
    [InlineData("video.freeze.max_cell_change=1", "video.freeze.max_cell_change must be between")] // below min_cell_change (3)
    [InlineData("video.freeze.min_changed_cells=0", "video.freeze.min_changed_cells must be between")]
    [InlineData("video.black.min_duration=abc", "video.black.min_duration: 'abc' is not a valid Double")]
    [InlineData("video.freeze.min_changed_cells=2.5", "'2.5' is not a valid Int32")]
    [InlineData("video.black.mask=0.5,0.5,0.7", "is not a valid RegionMask")]
    [InlineData("video.black.min_durration=2", "video.black has no option 'min_durration'")]
    public void Validate_BadSetting_ThrowsNamingTheCulprit(string assignment, string message)
    {
        var settings = DetectorSettings.Parse([assignment]);
        var error = Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(settings));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Validate_UnknownKind_ThrowsListingKnownKinds()
    {
        var error = Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse(["video.blak.min_duration=2"])));
        Assert.Contains("'video.blak.min_duration'", error.Message);
        Assert.Contains("video.black", error.Message);
    }

    [Theory]
    [InlineData("min_duration")]
    [InlineData("=3")]
    [InlineData("")]
    public void Parse_NotAnAssignment_Throws(string assignment)
    {
        var error = Assert.Throws<ArgumentException>(() => DetectorSettings.Parse([assignment]));
        Assert.Contains("expected kind.option=value", error.Message);
    }

    [Fact]
    public void Validate_GoodSettings_AreAcceptedAndBound()
    {
        var settings = DetectorSettings.Parse(["video.black.logo_area=0.2", "audio.silence.max_click=0.1"]);
        DetectorCatalog.Validate(settings);
        Assert.Equal(0.2, settings.Bind<BlackOptions>(BlackDetector.KindName).LogoArea);
        Assert.Equal(0.1, settings.Bind<SilenceOptions>(SilenceDetector.KindName).MaxClick);
    }

    [Fact]
    public void Select_Nothing_SelectsTheWholeCatalog()
    {
        Assert.Equal(DetectorCatalog.Kinds, DetectorCatalog.Select(null).Select(d => d.Kind));
        Assert.Equal(DetectorCatalog.Kinds, DetectorCatalog.Select(" ").Select(d => d.Kind));
    }

    [Fact]
    public void Select_Family_SelectsEveryKindOfThatFamilyOnly()
    {
        var kinds = DetectorCatalog.Select("video").Select(d => d.Kind).ToList();
        Assert.Equal(DetectorCatalog.Kinds.Where(k => k.StartsWith("video.")), kinds);
        Assert.Contains("video.black", kinds);
        Assert.Contains("video.freeze", kinds);
    }

    [Theory]
    [InlineData("video.black,video.freeze", new[] { "video.black", "video.freeze" })]
    [InlineData("audio.silence, video.black", new[] { "audio.silence", "video.black" })]
    [InlineData("video.black,video.freeze,video.black", new[] { "video.black", "video.freeze" })]
    public void Select_Selection_ResolvesKindsAndFamilies(string? selection, string[] expected)
    {
        Assert.Equal(expected, DetectorCatalog.Select(selection).Select(d => d.Kind));
    }

    [Fact]
    public void Select_UnknownName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => DetectorCatalog.Select("video.blur"));
        Assert.Contains("unknown detector 'video.blur'", error.Message);
    }

    /// <summary>Which options record each kind binds (written out: a descriptor wired to the wrong record fails here).</summary>
    public static TheoryData<string, Type> OptionsRecords => new()
    {
        { "video.black", typeof(BlackOptions) },
        { "video.freeze", typeof(FreezeOptions) },
        { "video.corruption", typeof(CorruptionOptions) },
        { "video.blockiness", typeof(BlockinessOptions) },
        { "audio.silence", typeof(SilenceOptions) },
        { "audio.loudness", typeof(LoudnessOptions) },
        { "audio.clipping", typeof(ClippingOptions) },
        { "av.sync", typeof(Vigil.Detectors.Sync.AvSyncOptions) },
        { "stream.discontinuity", typeof(Vigil.Detectors.Stream.DiscontinuityOptions) },
        // the ts.* detectors apply the standard's limits (TransportOptions) and have no options of their own, but for
        // ts.pcr_accuracy_error's tolerance on live inputs
        { "ts.continuity_count_error", typeof(Vigil.Detectors.Transport.TransportIndicatorOptions) },
        { "ts.pcr_accuracy_error", typeof(Vigil.Detectors.Transport.PcrAccuracyOptions) },
    };

    [Theory]
    [MemberData(nameof(OptionsRecords))]
    public void Catalog_Entry_BindsItsOwnRecordWithDefaultsAndDescribesEveryOption(string kind, Type record)
    {
        var descriptor = DetectorCatalog.All.Single(d => d.Kind == kind);
        var bound = descriptor.BindOptions(DetectorSettings.Empty);
        Assert.IsType(record, bound);
        Assert.Equal(Activator.CreateInstance(record), bound); // records compare by value: every option at its default
        var settable = record.GetProperties().Where(p => p.CanWrite).Select(p => p.Name).ToList();
        Assert.Equal(settable.Count, descriptor.Options.Count);
        Assert.All(descriptor.Options, o =>
        {
            Assert.Matches("^[a-z]+(_[a-z]+)*$", o.Name);
            Assert.False(string.IsNullOrWhiteSpace(o.Help), $"{kind}.{o.Name} has no help");
            Assert.False(string.IsNullOrWhiteSpace(o.Range), $"{kind}.{o.Name} has no range");
        });
    }

    [Theory]
    [MemberData(nameof(OptionsRecords))]
    public void Bind_EveryNumberOption_SetsThatPropertyAndNoOther(string kind, Type record)
    {
        var descriptor = DetectorCatalog.All.Single(d => d.Kind == kind);
        var defaults = descriptor.BindOptions(DetectorSettings.Empty);
        var properties = record.GetProperties().Where(p => p.CanWrite).ToList();
        foreach (var option in descriptor.Options.Where(o => o.ValueType == typeof(double) || o.ValueType == typeof(int)))
        {
            // the declared minimum, or the maximum where a rule between options forbids the minimum with the others at their defaults
            var bound = TryBind(descriptor, $"{kind}.{option.Name}", option.Min) ?? TryBind(descriptor, $"{kind}.{option.Name}", option.Max);
            Assert.True(bound is not null, $"{kind}.{option.Name}: neither end of its range binds");
            foreach (var property in properties)
            {
                var value = property.GetValue(bound.Value.Options);
                if (property.Name == SnakeToPascal(option.Name)) Assert.Equal(bound.Value.Value, Convert.ToDouble(value));
                else Assert.Equal(property.GetValue(defaults), value);
            }
        }
    }

    private static (IDetectorOptions Options, double Value)? TryBind(DetectorDescriptor descriptor, string key, double value)
    {
        try
        {
            return (descriptor.BindOptions(DetectorSettings.Parse([$"{key}={value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"])), value);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string SnakeToPascal(string name) => string.Concat(name.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
}
