namespace Vigil.Media;

/// <summary>How to open and reduce an input. Defaults suit analysing a file as fast as possible.</summary>
public sealed record MediaOpenOptions
{
    /// <summary>Video decode threads; 0 lets FFmpeg choose (one per core). Live monitors of many streams use 1.</summary>
    public int DecodeThreads { get; init; }

    /// <summary>Luma is box-averaged by an integer factor to at most this width (640 → 1080p is read at 640×360).</summary>
    public int AnalysisMaxWidth { get; init; } = 640;

    /// <summary>Opening (connect, probe) fails after this long.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A read that gets no data for this long fails as a stall; null waits forever (files).</summary>
    public TimeSpan? IoTimeout { get; init; }

    /// <summary>
    /// Measure <see cref="BlockGridStats"/> on the full-resolution luma of every frame (the blockiness and
    /// corruption detectors need them; one extra SIMD pass per frame).
    /// </summary>
    public bool GridStatistics { get; init; } = true;

    /// <summary>Decode video; when false its packets are dropped at the demuxer.</summary>
    public bool Video { get; init; } = true;

    /// <summary>Decode audio; when false its packets are dropped at the demuxer.</summary>
    public bool Audio { get; init; } = true;

    /// <summary>
    /// Analyse an MPEG-TS input's transport (ETSI TR 101 290, programmes) from the bytes the demuxer reads
    /// (<see cref="MediaSource.Transport"/>); other inputs are not affected.
    /// </summary>
    public bool AnalyzeTransport { get; init; } = true;

    /// <summary>
    /// Decode every programme of a multiplex (each TV or radio service, with its own decoders and clock;
    /// items carry <see cref="MediaItem.Program"/>) instead of the input as one. An input of at most one
    /// programme is decoded as one either way.
    /// </summary>
    public bool EveryProgram { get; init; }

    /// <summary>Decode these programmes (service ids) of a multiplex, each on its own; overrides <see cref="EveryProgram"/>.</summary>
    public IReadOnlyList<int>? Programs { get; init; }

    /// <summary>Limits of the transport checks.</summary>
    public Vigil.Transport.TransportOptions? TransportLimits { get; init; }
}
