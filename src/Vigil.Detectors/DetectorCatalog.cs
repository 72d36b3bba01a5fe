using Vigil.Detectors.Audio;
using Vigil.Detectors.Stream;
using Vigil.Detectors.Sync;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Detectors;

/// <summary>What a detector needs to be built for one stream.</summary>
public sealed record DetectorContext(MediaInfo Media, IDefectSink Sink, DetectorSettings Settings);

/// <summary>What a detector listens to; a detector may need both (A/V sync).</summary>
[Flags]
public enum MediaNeeds
{
    /// <summary>Bitstream events only (continuity errors, timestamp jumps): runs on any input.</summary>
    None = 0,
    Video = 1,
    Audio = 2,
}

/// <summary>One entry of the catalog: a defect kind, what it listens to, its options and how to build it.</summary>
public sealed record DetectorDescriptor(
    string Kind,
    string Description,
    bool NeedsVideo,
    bool NeedsAudio,
    IReadOnlyList<(string Name, string Default)> Options,
    Func<DetectorSettings, IDetectorOptions> BindOptions,
    Func<DetectorContext, IDetector> Create);

/// <summary>Maps defect kinds to detector factories; an instance runs the subset it is configured with.</summary>
public static class DetectorCatalog
{
    public static IReadOnlyList<DetectorDescriptor> All { get; } =
    [
        Entry<BlackOptions>(BlackDetector.KindName, "picture black (logos allowed) for ≥ 1 s", MediaNeeds.Video,
            (o, c) => new BlackDetector(o, c.Sink)),
        Entry<FreezeOptions>(FreezeDetector.KindName, "picture unchanged (noise ignored) for ≥ 2 s", MediaNeeds.Video,
            (o, c) => new FreezeDetector(o, c.Sink)),
        Entry<CorruptionOptions>(CorruptionDetector.KindName, "visible damage from transmission or decoding errors, until it heals", MediaNeeds.Video,
            (o, c) => new CorruptionDetector(o, c.Sink, c.Media.Video?.StreamIndex ?? -1)),
        Entry<BlockinessOptions>(BlockinessDetector.KindName, "visible compression blocking for ≥ 1 s", MediaNeeds.Video,
            (o, c) => new BlockinessDetector(o, c.Sink, c.Media.Video?.Codec)),
        Entry<SilenceOptions>(SilenceDetector.KindName, "all channels, or one channel, below −60 dBFS for ≥ 2 s", MediaNeeds.Audio,
            (o, c) => new SilenceDetector(o, c.Sink)),
        Entry<LoudnessOptions>(LoudnessDetector.KindName, "short-term loudness outside target ± tolerance (−23 LUFS ± 5 LU) for ≥ 10 s", MediaNeeds.Audio,
            (o, c) => new LoudnessDetector(o, c.Sink)),
        Entry<ClippingOptions>(ClippingDetector.KindName, "waveform flattened at full scale (also after lossy codecs) ≥ 0.1 s within 1 s", MediaNeeds.Audio,
            (o, c) => new ClippingDetector(o, c.Sink)),
        Entry<AvSyncOptions>(AvSyncDetector.KindName, "audio early > 45 ms or late > 125 ms, steady for ≥ 5 s (details.offset_ms > 0: audio late); a repeating line-up pattern gives its smallest offset",
            MediaNeeds.Video | MediaNeeds.Audio, (o, c) => new AvSyncDetector(o, c.Sink)),
        Entry<DiscontinuityOptions>(DiscontinuityDetector.KindName, "timestamp jumps, lost packets, missing frames, codec changes",
            MediaNeeds.None, (o, c) => new DiscontinuityDetector(o, c.Sink)),
    ];

    public static IReadOnlyList<string> Kinds => All.Select(d => d.Kind).ToArray();

    /// <summary>
    /// <paramref name="options"/> with what the converter must decode and measure for <paramref name="selected"/>
    /// (video, audio, grid statistics): the one place decoding follows the detector selection.
    /// </summary>
    public static MediaOpenOptions DecodeFor(IEnumerable<DetectorDescriptor> selected, MediaOpenOptions options)
    {
        var chosen = selected.ToList();
        return options with
        {
            // the full-resolution grid pass costs ~5 % at 1080p: only when a detector reads it
            GridStatistics = NeedsGridStatistics(chosen),
            Video = NeedsVideo(chosen),
            Audio = NeedsAudio(chosen),
        };
    }

    /// <summary>
    /// Whether any of <paramref name="selected"/> reads <see cref="VideoFrame.Grid"/>, so the converter must
    /// measure the full-resolution block grid (one extra pass per frame, skipped when nobody needs it).
    /// </summary>
    public static bool NeedsGridStatistics(IEnumerable<DetectorDescriptor> selected) =>
        selected.Any(d => d.Kind is CorruptionDetector.KindName or BlockinessDetector.KindName);

    /// <summary>
    /// Whether the converter must decode video for <paramref name="selected"/>: a video detector, or a
    /// bitstream detector (it watches the timestamps of every stream). Skipping the other kind saves its
    /// decoding: an audio-only selection decodes no video at all.
    /// </summary>
    public static bool NeedsVideo(IEnumerable<DetectorDescriptor> selected) => selected.Any(d => d.NeedsVideo || !d.NeedsAudio);

    /// <summary>Whether the converter must decode audio for <paramref name="selected"/> (see <see cref="NeedsVideo"/>).</summary>
    public static bool NeedsAudio(IEnumerable<DetectorDescriptor> selected) => selected.Any(d => d.NeedsAudio || !d.NeedsVideo);

    /// <summary>
    /// Resolves a comma-separated selection (<c>video.black,audio.silence</c>; a prefix such as
    /// <c>video</c> selects a family; null or empty selects all). Unknown names throw.
    /// </summary>
    public static IReadOnlyList<DetectorDescriptor> Select(string? selection)
    {
        if (string.IsNullOrWhiteSpace(selection)) return All;
        var chosen = new List<DetectorDescriptor>();
        foreach (var name in selection.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var matches = All.Where(d => d.Kind.Equals(name, StringComparison.OrdinalIgnoreCase)
                                         || d.Kind.StartsWith(name + ".", StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count == 0)
                throw new ArgumentException($"unknown detector '{name}' (known: {string.Join(", ", Kinds)})");
            chosen.AddRange(matches.Where(m => !chosen.Contains(m)));
        }
        return chosen;
    }

    /// <summary>Builds the selected detectors that the input can feed (no audio detectors on an input without audio).</summary>
    public static IReadOnlyList<IDetector> Create(IEnumerable<DetectorDescriptor> selected, DetectorContext context) =>
        selected.Where(d => (!d.NeedsVideo || context.Media.Video is not null) && (!d.NeedsAudio || context.Media.Audio is not null))
            .Select(d => d.Create(context)).ToList();

    /// <summary>
    /// Checks every setting against the catalog (known kind, known option, value in range) so a typo
    /// fails before any decoding starts. Throws <see cref="ArgumentException"/> naming the culprit.
    /// </summary>
    public static void Validate(DetectorSettings settings)
    {
        foreach (var key in settings.Values.Keys)
            if (!All.Any(d => key.StartsWith(d.Kind + ".", StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"'{key}': no detector kind matches (known: {string.Join(", ", Kinds)})");
        foreach (var d in All) d.BindOptions(settings);
    }

    private static DetectorDescriptor Entry<TOptions>(string kind, string description, MediaNeeds needs, Func<TOptions, DetectorContext, IDetector> create)
        where TOptions : IDetectorOptions, new() =>
        new(kind, description, NeedsVideo: needs.HasFlag(MediaNeeds.Video), NeedsAudio: needs.HasFlag(MediaNeeds.Audio),
            DetectorSettings.Describe<TOptions>().ToList(),
            settings => settings.Bind<TOptions>(kind),
            context => create(context.Settings.Bind<TOptions>(kind), context));
}
