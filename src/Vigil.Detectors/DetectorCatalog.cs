using Vigil.Detectors.Audio;
using Vigil.Detectors.Stream;
using Vigil.Detectors.Sync;
using Vigil.Detectors.Transport;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Transport;

namespace Vigil.Detectors;

/// <summary>What a detector needs to be built for one stream.</summary>
public sealed record DetectorContext(MediaInfo Media, IDefectSink Sink, DetectorSettings Settings);

/// <summary>What a detector needs from the converter, declared in its descriptor; what gets decoded follows from it.</summary>
[Flags]
public enum DetectorNeeds
{
    /// <summary>Nothing decoded (not used alone: a detector needs at least bitstream events).</summary>
    None = 0,
    /// <summary>Decoded pictures: the detector is an <see cref="IVideoDetector"/>.</summary>
    Video = 1,
    /// <summary>Decoded audio: the detector is an <see cref="IAudioDetector"/>.</summary>
    Audio = 2,
    /// <summary>
    /// The full-resolution block grid of every picture (<see cref="VideoFrame.Grid"/>): one extra pass per
    /// frame in the converter, made only when a selected detector needs it.
    /// </summary>
    GridStatistics = 4,
    /// <summary>
    /// The converter's bitstream events (continuity errors, decode errors, timestamp jumps): the detector is an
    /// <see cref="IMediaEventDetector"/>. One that needs neither video nor audio watches the events of every
    /// stream, so both are decoded for it.
    /// </summary>
    BitstreamEvents = 8,
    /// <summary>
    /// The transport analyser's findings (ETSI TR 101 290 on MPEG-TS inputs): the detector is an
    /// <see cref="ITransportDetector"/>. Its findings are placed on the media timeline, so both tracks are decoded for it.
    /// </summary>
    Transport = 16,
}

/// <summary>One entry of the catalog: a defect kind, what it needs, its options and how to build it.</summary>
public sealed record DetectorDescriptor(
    string Kind,
    string Description,
    DetectorNeeds Needs,
    IReadOnlyList<DetectorOption> Options,
    Func<DetectorSettings, IDetectorOptions> BindOptions,
    Func<DetectorContext, IDetector> Create)
{
    /// <summary>It listens to pictures.</summary>
    public bool NeedsVideo => Needs.HasFlag(DetectorNeeds.Video);

    /// <summary>It listens to audio.</summary>
    public bool NeedsAudio => Needs.HasFlag(DetectorNeeds.Audio);

    /// <summary>It reads <see cref="VideoFrame.Grid"/>.</summary>
    public bool NeedsGridStatistics => Needs.HasFlag(DetectorNeeds.GridStatistics);

    /// <summary>It listens to the bitstream alone, on every stream (timestamps, continuity): no decoded media of its own.</summary>
    public bool WatchesEveryStream => !NeedsVideo && !NeedsAudio;
}

/// <summary>Maps defect kinds to detector factories; an instance runs the subset it is configured with.</summary>
public static class DetectorCatalog
{
    public static IReadOnlyList<DetectorDescriptor> All { get; } =
    [
        Entry<BlackOptions>(BlackDetector.KindName, "picture black (logos allowed) for ≥ 1 s", DetectorNeeds.Video,
            (o, c) => new BlackDetector(o, c.Sink)),
        Entry<FreezeOptions>(FreezeDetector.KindName, "picture unchanged (noise ignored) for ≥ 2 s", DetectorNeeds.Video,
            (o, c) => new FreezeDetector(o, c.Sink)),
        Entry<CorruptionOptions>(CorruptionDetector.KindName, "visible damage from transmission or decoding errors, until it heals",
            DetectorNeeds.Video | DetectorNeeds.GridStatistics | DetectorNeeds.BitstreamEvents,
            (o, c) => new CorruptionDetector(o, c.Sink, c.Media.Video?.StreamIndex ?? -1)),
        Entry<BlockinessOptions>(BlockinessDetector.KindName, "visible compression blocking for ≥ 1 s", DetectorNeeds.Video | DetectorNeeds.GridStatistics,
            (o, c) => new BlockinessDetector(o, c.Sink, c.Media.Video?.Codec)),
        Entry<SilenceOptions>(SilenceDetector.KindName, "all channels, or one channel, below −60 dBFS for ≥ 2 s; by role: a silent LFE is normal (include_lfe), surrounds only with include_surrounds", DetectorNeeds.Audio,
            (o, c) => new SilenceDetector(o, c.Sink)),
        Entry<LoudnessOptions>(LoudnessDetector.KindName, "short-term loudness outside target ± tolerance (−23 LUFS ± 5 LU) for ≥ 10 s", DetectorNeeds.Audio,
            (o, c) => new LoudnessDetector(o, c.Sink)),
        Entry<ClippingOptions>(ClippingDetector.KindName, "waveform flattened at full scale (also after lossy codecs) ≥ 0.1 s within 1 s", DetectorNeeds.Audio,
            (o, c) => new ClippingDetector(o, c.Sink)),
        Entry<AvSyncOptions>(AvSyncDetector.KindName, "audio early > 45 ms or late > 125 ms, steady for ≥ 5 s (details.offset_ms > 0: audio late); a repeating line-up pattern gives its smallest offset",
            DetectorNeeds.Video | DetectorNeeds.Audio | DetectorNeeds.BitstreamEvents, (o, c) => new AvSyncDetector(o, c.Sink)),
        Entry<DiscontinuityOptions>(DiscontinuityDetector.KindName, "timestamp jumps, lost packets, missing frames, codec changes",
            DetectorNeeds.BitstreamEvents, (o, c) => new DiscontinuityDetector(o, c.Sink)),
        .. Indicators.All.Select(i => i == Indicator.PcrAccuracyError
            ? Entry<PcrAccuracyOptions>(i.Kind(), $"ETSI TR 101 290 {i.Number()}: {TransportDescription(i)} (MPEG-TS)",
                DetectorNeeds.Transport, (_, c) => new TransportIndicatorDetector(i, c.Sink))
            : Entry<TransportIndicatorOptions>(i.Kind(), $"ETSI TR 101 290 {i.Number()}: {TransportDescription(i)} (MPEG-TS)",
                DetectorNeeds.Transport, (_, c) => new TransportIndicatorDetector(i, c.Sink))),
    ];

    private static string TransportDescription(Indicator indicator) => indicator switch
    {
        Indicator.SyncLoss => "sync lost (2 corrupt sync bytes in a row) until 5 good ones",
        Indicator.SyncByteError => "a sync byte is not 0x47",
        Indicator.PatError => "no PAT for > 0.5 s, another table on PID 0, or PID 0 scrambled",
        Indicator.ContinuityCountError => "a packet lost, out of order, or sent more than twice",
        Indicator.PmtError => "no PMT of a programme for > 0.5 s, or it is scrambled",
        Indicator.PidError => "a video or audio PID of a PMT absent for > 1 s",
        Indicator.TransportError => "transport_error_indicator set",
        Indicator.CrcError => "a CRC error in a PAT, CAT, PMT, NIT, SDT, BAT, EIT or TOT",
        Indicator.PcrRepetitionError => "more than 40 ms between PCRs",
        Indicator.PcrDiscontinuityIndicatorError => "PCRs more than 100 ms apart or going back without discontinuity_indicator",
        Indicator.PcrAccuracyError => "a PCR more than 500 ns off its byte position at a constant mux rate; on a live input also one ahead of its bytes' arrival (arrival_accuracy, 2 ms)",
        Indicator.PtsError => "more than 700 ms between PTS",
        _ => "scrambled packets without a CAT, or another table on PID 1",
    };

    public static IReadOnlyList<string> Kinds => All.Select(d => d.Kind).ToArray();

    /// <summary>
    /// <paramref name="options"/> with what the converter must decode and measure for <paramref name="selected"/>,
    /// from their declared needs: the one place decoding follows the detector selection. Video for a video
    /// detector or one that watches every stream, audio likewise (an audio-only selection decodes no video at
    /// all), and the block grid (one extra pass per frame, ~5 % at 1080p) only when a detector reads it. The
    /// other settings of <paramref name="options"/> (threads, timeouts) are kept. Given <paramref name="settings"/>,
    /// the transport analysis takes the limits they set for its checks (<see cref="PcrAccuracyOptions"/>).
    /// </summary>
    public static MediaOpenOptions DecodeFor(IEnumerable<DetectorDescriptor> selected, MediaOpenOptions options, DetectorSettings? settings = null)
    {
        var list = selected as IReadOnlyCollection<DetectorDescriptor> ?? selected.ToList();
        return options with
        {
            GridStatistics = NeedsGridStatistics(list),
            Video = NeedsVideo(list),
            Audio = NeedsAudio(list),
            TransportLimits = settings is null ? options.TransportLimits : (options.TransportLimits ?? new TransportOptions()) with
            {
                PcrArrivalAccuracy = settings.Bind<PcrAccuracyOptions>(Indicator.PcrAccuracyError.Kind()).ArrivalAccuracy,
            },
        };
    }

    /// <summary>Whether any of <paramref name="selected"/> reads <see cref="VideoFrame.Grid"/>.</summary>
    public static bool NeedsGridStatistics(IEnumerable<DetectorDescriptor> selected) => selected.Any(d => d.NeedsGridStatistics);

    /// <summary>Whether the converter must decode video for <paramref name="selected"/> (see <see cref="DecodeFor"/>).</summary>
    public static bool NeedsVideo(IEnumerable<DetectorDescriptor> selected) => selected.Any(d => d.NeedsVideo || d.WatchesEveryStream);

    /// <summary>Whether the converter must decode audio for <paramref name="selected"/> (see <see cref="DecodeFor"/>).</summary>
    public static bool NeedsAudio(IEnumerable<DetectorDescriptor> selected) => selected.Any(d => d.NeedsAudio || d.WatchesEveryStream);

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

    private static DetectorDescriptor Entry<TOptions>(string kind, string description, DetectorNeeds needs, Func<TOptions, DetectorContext, IDetector> create)
        where TOptions : IDetectorOptions, new() =>
        new(kind, description, needs, OptionTable<TOptions>.Options,
            settings => settings.Bind<TOptions>(kind),
            context => create(context.Settings.Bind<TOptions>(kind), context));
}
