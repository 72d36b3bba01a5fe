namespace Vigil.Events;

/// <summary>The contract's summary line (EVENTS.md): what one analysis of one input saw.</summary>
/// <param name="Duration">Media seconds analysed.</param>
/// <param name="Video">The video stream, when the input has one.</param>
/// <param name="Audio">The audio stream, when the input has one.</param>
/// <param name="Loudness">Whole-input loudness, when audio was measured.</param>
/// <param name="Defects">Defects reported.</param>
/// <param name="CorruptPackets">Packets the demuxer flagged corrupt (written when not 0).</param>
/// <param name="DecodeErrors">Packets the decoder rejected (written when not 0).</param>
/// <param name="Discontinuities">Timestamp jumps and frame gaps (written when not 0).</param>
/// <param name="WallSeconds">Wall-clock time the analysis took.</param>
public sealed record InputSummary(
    double Duration,
    VideoSummary? Video,
    AudioSummary? Audio,
    LoudnessSummary? Loudness,
    int Defects,
    long CorruptPackets,
    long DecodeErrors,
    long Discontinuities,
    double WallSeconds)
{
    /// <summary>An MPEG-TS input's failures per ETSI TR 101 290 indicator (<c>transport</c>), by contract name, every indicator listed.</summary>
    public IReadOnlyList<KeyValuePair<string, long>>? Transport { get; init; }

    /// <summary>A multiplex of several programmes: one entry per programme (<c>programs</c>); the top-level fields describe the first.</summary>
    public IReadOnlyList<ProgramSummary>? Programs { get; init; }
}

/// <summary>
/// One programme of a multiplex in the summary's <c>programs</c>: its service id and name, and its own
/// duration, video, audio, loudness, defects and TR 101 290 counts (those of its PMT and PIDs).
/// </summary>
public sealed record ProgramSummary(int Program, string? ServiceName, InputSummary Summary);

/// <summary>The summary's <c>video</c> object.</summary>
public sealed record VideoSummary(string Codec, int Width, int Height, double Fps, long Frames);

/// <summary>The summary's <c>audio</c> object.</summary>
public sealed record AudioSummary(string Codec, int SampleRate, int Channels);

/// <summary>Whole-input loudness for the summary (ITU-R BS.1770-4 / EBU R128).</summary>
public sealed record LoudnessSummary(double IntegratedLufs, double LoudnessRangeLu, double TruePeakDbtp);
