using System.Runtime.InteropServices;
using Vigil.Media.Native;
using Vigil.Transport;

namespace Vigil.Media;

/// <summary>What <see cref="MediaSource.Read"/> produced.</summary>
public enum MediaItemKind { End, Video, Audio, Event, Transport }

/// <summary>
/// One item from the converter; exactly one of the payloads is set, per <see cref="Kind"/>. <see cref="Program"/>:
/// the programme it belongs to (<see cref="MediaInfo.Program"/>), 0 for an input decoded as one and for findings
/// on a multiplex as a whole (sync, PAT).
/// </summary>
public readonly record struct MediaItem(MediaItemKind Kind, VideoFrame? Video = null, AudioBlock? Audio = null, MediaEvent Event = default,
    TransportFinding Transport = default, int Program = 0);

/// <summary>
/// An opened input (file or URL) decoded through the native shim into pooled analysis frames. An MPEG-TS
/// input's bytes also go, as the shim reads them, through a <see cref="TransportAnalyzer"/>
/// (<see cref="Transport"/>), whose findings come out of <see cref="Read"/> in stream order with the media.
/// Not thread-safe except <see cref="Interrupt"/>, which unblocks a read from another thread.
/// </summary>
public sealed class MediaSource : IMediaReader, IDisposable
{
    /// <summary>MPEG-TS timestamps wrap at 2^33 ticks of 90 kHz (26.5 hours).</summary>
    private const double TimestampWrap = (1L << 33) / 90_000.0;

    /// <summary>Lost video packets held back for their picture at most (beyond, the oldest goes out as it is).</summary>
    private const int MaxHeldLosses = 256;

    private nint _ctx;
    private readonly FramePool<VideoFrame> _videoPool;
    private readonly FramePool<AudioBlock> _audioPool;
    private readonly TransportTap? _tap;
    private Decoded[] _decoded;      // replaced when a codec change gives a programme new streams
    private MediaItem? _held;       // vg_read's item, handed out after the transport findings of the same read
    private readonly Queue<MediaItem> _losses = new(); // video packets lost, waiting for the picture they damaged
    private int _primaryProgram;    // input decoded as one: the multiplex programme of its streams
    private readonly Dictionary<int, ChannelRole[]> _roles = new(); // per programme: its audio's channel roles, reused while its layout stays
    private bool _transportFinished;

    /// <summary>A programme as the shim decodes it: its info and its streams' PIDs.</summary>
    private sealed record Decoded(MediaInfo Info, int VideoPid, int AudioPid);

    private MediaSource(nint ctx, Decoded[] decoded, TransportTap? tap)
    {
        _ctx = ctx;
        _decoded = decoded;
        _tap = tap;
        Programs = decoded.Select(d => d.Info).ToArray();
        var lumaSize = Programs.Max(p => p.Video is { } v ? v.AnalysisWidth * v.AnalysisHeight : 0);
        _videoPool = new FramePool<VideoFrame>(pool => new VideoFrame(pool, lumaSize));
        _audioPool = new FramePool<AudioBlock>(pool => new AudioBlock(pool, 2 * 2048));
    }

    /// <summary>What the input holds: for a multiplex decoded per programme, the first programme (see <see cref="Programs"/>).</summary>
    public MediaInfo Info => Programs[0];

    /// <summary>
    /// The programmes decoded, each with its own streams and clock: one, <see cref="MediaInfo.Program"/> 0, for an
    /// input decoded as one; else the multiplex's TV and radio programmes chosen (<see cref="MediaOpenOptions.EveryProgram"/>).
    /// After a <see cref="MediaEventKind.CodecChange"/> event, what they carry now (codecs, sizes; streams keep their index).
    /// </summary>
    public IReadOnlyList<MediaInfo> Programs { get; private set; }

    /// <summary>Whether the programmes are services of a multiplex, decoded each on its own.</summary>
    public bool IsMultiplex => Programs[0].Program != 0;

    /// <summary>The transport analysis of an MPEG-TS input (TR 101 290 counts, programmes, PIDs); null for other inputs.</summary>
    public TransportAnalyzer? Transport => _tap?.Analyzer;

    /// <summary>Why the transport analysis stopped early (an analyser failure), or null.</summary>
    public string? TransportFailure => _tap?.Failure;

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch"/> ticks of when the last picture or audio block <see cref="Read"/>
    /// handed out arrived (0 before any), whatever the analysis behind it is doing: on a tapped input, when the
    /// shim last read bytes of it, for the demuxer hands out a transport stream's last packets only once the
    /// input stalls (the read timed out) or ends, seconds after their bytes came; else when it was decoded. Thread-safe.
    /// </summary>
    public long LastMediaTicks => Interlocked.Read(ref _lastMediaTicks);

    private long _lastMediaTicks;

    /// <summary>FFmpeg version the shim runs against.</summary>
    public static string FfmpegVersion => Marshal.PtrToStringUTF8(NativeMethods.Version()) ?? "?";

    /// <summary>Opens <paramref name="url"/>; throws <see cref="MediaException"/> with a one-line reason.</summary>
    public static unsafe MediaSource Open(string url, MediaOpenOptions? options = null)
    {
        options ??= new MediaOpenOptions();
        var tap = options.AnalyzeTransport ? new TransportTap(options.TransportLimits, TransportTap.IsLiveInput(url)) : null;
        var chosen = options.Programs is { Count: > 0 } list ? list.ToArray() : [];
        const int errorSize = 512;
        byte* error = stackalloc byte[errorSize];
        error[0] = 0;
        nint ctx;
        fixed (int* programs = chosen)
        {
            var native = new VgOpenOptions
            {
                DecodeThreads = options.DecodeThreads,
                AnalysisMaxWidth = options.AnalysisMaxWidth,
                OpenTimeoutSeconds = options.OpenTimeout.TotalSeconds,
                IoTimeoutSeconds = options.IoTimeout?.TotalSeconds ?? 0,
                WantVideo = options.Video ? 1 : 0,
                WantAudio = options.Audio ? 1 : 0,
                WantGridStats = options.GridStatistics ? 1 : 0,
                Tap = tap is null ? null : TransportTap.Callback,
                TapOpaque = tap?.Opaque ?? 0,
                ProgramCount = chosen.Length > 0 ? chosen.Length : options.EveryProgram ? NativeMethods.AllPrograms : 0,
                Programs = programs,
            };
            if (NativeMethods.Open(url, native, out ctx, error, errorSize) < 0)
            {
                tap?.Dispose();
                throw new MediaException($"{url}: {NativeMethods.FixedString(error, errorSize)}");
            }
        }
        var decoded = ReadPrograms(ctx);
        if (tap is not null && decoded[0].Info.Format != "mpegts")
        {
            // not a transport stream (or one the shim could not tap: rtsp): nothing to analyse
            NativeMethods.TapDetach(ctx);
            tap.Dispose();
            tap = null;
        }
        if (tap is not null)
            for (var k = 0; k < decoded.Length; k++)
                if (tap.Analyzer.Programs.FirstOrDefault(p => p.Number == decoded[k].Info.Program) is { ServiceName: { } name })
                    decoded[k] = decoded[k] with { Info = decoded[k].Info with { ServiceName = name } };
        return new MediaSource(ctx, decoded, tap);
    }

    private static Decoded[] ReadPrograms(nint ctx)
    {
        NativeMethods.GetInfo(ctx, out var first);
        var decoded = new Decoded[Math.Max(1, first.ProgramCount)];
        for (var k = 0; k < decoded.Length; k++)
        {
            NativeMethods.GetProgramInfo(ctx, k, out var i);
            decoded[k] = new Decoded(Describe(i), i.VideoId, i.AudioId);
        }
        return decoded;
    }

    /// <summary>A codec change: the shim restarted its demuxer or a new decoder took over, so codecs, sizes and PIDs are read again.</summary>
    private void Reread()
    {
        var decoded = ReadPrograms(_ctx);
        if (decoded.Length != _decoded.Length) return; // the shim keeps its programmes; should it not, the old view stays
        for (var k = 0; k < decoded.Length; k++)
            decoded[k] = decoded[k] with { Info = decoded[k].Info with { ServiceName = _decoded[k].Info.ServiceName } };
        _decoded = decoded;
        Programs = decoded.Select(d => d.Info).ToArray();
    }

    private static unsafe MediaInfo Describe(VgInfo i)
    {
        var video = i.VideoStream >= 0
            ? new VideoInfo(i.VideoStream, NativeMethods.FixedString(i.VideoCodec, 32), i.Width, i.Height, i.AnalysisWidth, i.AnalysisHeight, i.Fps)
            : null;
        var audio = i.AudioStream >= 0
            ? new AudioInfo(i.AudioStream, NativeMethods.FixedString(i.AudioCodec, 32), i.SampleRate, i.Channels)
            : null;
        return new MediaInfo(NativeMethods.FixedString(i.FormatName, 32), i.Duration >= 0 ? i.Duration : null, video, audio) { Program = i.Program };
    }

    /// <summary>
    /// Reads the next item. Returns kind <see cref="MediaItemKind.End"/> at the end of the input; throws
    /// <see cref="MediaStalledException"/> when a live input stops delivering and <see cref="MediaException"/>
    /// when it fails. The caller owns (and must release) any frame or block returned.
    /// </summary>
    public MediaItem Read()
    {
        ObjectDisposedException.ThrowIf(_ctx == 0, this);
        while (true)
        {
            // what the transport analyser found in the bytes of the last read comes first
            if (_tap is not null && _tap.TryTake(out var found))
            {
                if (Finding(found) is not { } finding) continue; // a programme not decoded
                if (!IsVideoLoss(finding)) return finding;
                _losses.Enqueue(finding);
                if (_losses.Count <= MaxHeldLosses) continue;
                return _losses.Dequeue();
            }
            if (_held is { } held)
            {
                if (_losses.TryPeek(out var loss) && (held.Kind == MediaItemKind.End || Damaged(loss, held))) return _losses.Dequeue();
                if (held.Kind != MediaItemKind.End) _held = null; // the end stays the end
                return held;
            }
            var item = ReadNative();
            if (item.Kind == MediaItemKind.End)
            {
                _tap?.Analyzer.Finish();
                _transportFinished = true;
                _held = item; // End, forever, once everything before it is out
                continue;
            }
            // the demuxer's corrupt flags on MPEG-TS mean too many things; the analyser's lost packets replace them
            if (_tap is not null && item is { Kind: MediaItemKind.Event, Event.Kind: MediaEventKind.PacketCorrupt }) continue;
            _held = item;
        }
    }

    /// <summary>
    /// An analysis that stops before the input's end (a duration reached, cancelled, failed): the transport
    /// analyser's last word (indicators cleared, or still failing with their counts) and the lost packets still
    /// held back, as items. Nothing once <see cref="Read"/> has reached the end, which hands these out itself.
    /// </summary>
    public IEnumerable<MediaItem> FinishTransport()
    {
        if (_tap is null || _transportFinished) yield break;
        _transportFinished = true;
        _tap.Analyzer.Finish();
        while (_losses.TryDequeue(out var loss)) yield return loss;
        while (_tap.TryTake(out var found))
            if (Finding(found) is { } finding) yield return finding;
    }

    private Decoded? DecodedProgram(int program)
    {
        foreach (var d in _decoded)
            if (d.Info.Program == program) return d;
        return null;
    }

    private bool IsVideoLoss(in MediaItem item) =>
        item is { Kind: MediaItemKind.Event, Event.Kind: MediaEventKind.PacketsLost } && !double.IsNaN(item.Event.Pts)
        && DecodedProgram(item.Program)?.Info.Video is { } v && item.Event.StreamIndex == v.StreamIndex;

    /// <summary>
    /// Whether a held loss goes out before <paramref name="next"/>: the analyser reads bytes ahead of the decoder,
    /// so a loss is held until the picture it fell in (its PES's PTS) comes out, and then handed out just before it,
    /// as the demuxer's corrupt flag was. One stamped far ahead of the pictures (10 s) is not waited for.
    /// </summary>
    private static bool Damaged(in MediaItem loss, in MediaItem next) =>
        next.Video is { } frame && next.Program == loss.Program && (loss.Event.Pts <= frame.Pts + 1e-3 || loss.Event.Pts - frame.Pts > 10);

    /// <summary>
    /// A transport finding as an item of the programme it is on (0: the multiplex as a whole), lost packets as a
    /// bitstream event on their stream, indicators as findings; null for a programme that is not decoded.
    /// </summary>
    private MediaItem? Finding(in TransportEvent e)
    {
        var asOne = !IsMultiplex;
        var primary = asOne ? PrimaryProgram() : _decoded[0].Info.Program;
        if (e.Program != 0 && (asOne ? e.Program != primary : DecodedProgram(e.Program) is null)) return null;
        var decoded = asOne ? _decoded[0] : DecodedProgram(e.Program == 0 ? primary : e.Program)!;
        var program = asOne ? 0 : e.Program;
        var start = NativeMethods.StartSeconds(_ctx, decoded.Info.Program);
        if (e.Kind == TransportEventKind.PacketsLost)
        {
            var damaged = e.Pts >= 0
                ? Seconds(e.Pts / 90_000.0, start)
                : Seconds(_tap!.Analyzer.ClockAt(e.Program != 0 ? e.Program : primary, e.Time), start);
            var stream = e.Pid == decoded.VideoPid && decoded.Info.Video is { } v ? v.StreamIndex
                : e.Pid == decoded.AudioPid && decoded.Info.Audio is { } a ? a.StreamIndex : -1;
            return new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.PacketsLost, stream, damaged, e.Count), Program: program);
        }
        // transport time on the programme's own clock: the scale of its items' timestamps, so the pipeline maps both alike
        var clock = _tap!.Analyzer.ClockAt(e.Program != 0 ? e.Program : primary, e.Time);
        return new MediaItem(MediaItemKind.Transport, Transport: new TransportFinding(e, Seconds(clock, start), program), Program: program);
    }

    /// <summary>
    /// A programme-clock time as seconds from the programme's start, like its items' timestamps. Both are 33-bit
    /// MPEG time, so the difference is taken modulo the wrap; NaN while either is unknown.
    /// </summary>
    private static double Seconds(double clock, double start) =>
        double.IsNaN(clock) || double.IsNaN(start) ? double.NaN : Math.IEEERemainder(clock - start, TimestampWrap);

    /// <summary>An input decoded as one: the multiplex programme its streams belong to (0 until its PMT is known).</summary>
    private int PrimaryProgram()
    {
        if (_primaryProgram != 0 || _tap is null) return _primaryProgram;
        foreach (var p in _tap.Analyzer.Programs)
            foreach (var s in p.Streams)
                if (s.Pid == _decoded[0].VideoPid || s.Pid == _decoded[0].AudioPid) return _primaryProgram = p.Number;
        return 0;
    }

    private unsafe MediaItem ReadNative()
    {
        var result = NativeMethods.Read(_ctx, out var item);
        if (result < 0)
        {
            var message = Marshal.PtrToStringUTF8(NativeMethods.LastError(_ctx)) ?? "unknown error";
            if (result == NativeMethods.ErrStalled) throw new MediaStalledException(message);
            if (result == NativeMethods.ErrInterrupted) throw new OperationCanceledException(message);
            throw new MediaException(message);
        }
        if (result == 0) return new MediaItem(MediaItemKind.End);
        if (item.Kind is VgItemKind.Video or VgItemKind.Audio)
            Interlocked.Exchange(ref _lastMediaTicks, _tap is { LastBytesTicks: > 0 and var read } ? read : System.Diagnostics.Stopwatch.GetTimestamp());
        switch (item.Kind)
        {
            case VgItemKind.Video:
            {
                var frame = _videoPool.Rent();
                frame.Reset(item.Width, item.Height, item.Pts);
                frame.Duration = item.Duration;
                frame.SourceWidth = item.SourceWidth;
                frame.SourceHeight = item.SourceHeight;
                frame.PictureType = (PictureType)item.PictType;
                frame.IsKeyFrame = item.KeyFrame != 0;
                frame.IsRecoveryPoint = item.RecoveryPoint != 0;
                frame.DecodeErrors = (DecodeErrors)item.DecodeErrorFlags;
                frame.IsCorrupt = item.Corrupt != 0;
                frame.HasConcealedReference = item.ConcealedReference != 0;
                frame.ConcealedArea = item.ConcealedArea;
                frame.FullRange = item.FullRange != 0;
                frame.InputEnd = item.InputEnd;
                if (item.Grid != null) frame.Grid.CopyFrom(*item.Grid);
                var dst = frame.Luma;
                if (item.LumaStride == item.Width)
                    new ReadOnlySpan<byte>(item.Luma, item.Width * item.Height).CopyTo(dst);
                else
                    for (var y = 0; y < item.Height; y++)
                        new ReadOnlySpan<byte>(item.Luma + (nint)y * item.LumaStride, item.Width).CopyTo(dst.Slice(y * item.Width, item.Width));
                return new MediaItem(MediaItemKind.Video, Video: frame, Program: item.Program);
            }
            case VgItemKind.Audio:
            {
                var block = _audioPool.Rent();
                block.Reset(item.Channels, item.SampleCount, item.SampleRate, item.Pts);
                new ReadOnlySpan<float>(item.Samples, item.Channels * item.SampleCount).CopyTo(block.AllSamples);
                block.Roles = Roles(item.Program, new ReadOnlySpan<int>(item.ChannelRoles, item.Channels));
                return new MediaItem(MediaItemKind.Audio, Audio: block, Program: item.Program);
            }
            default:
                if (item.EventCode == (int)MediaEventKind.CodecChange) Reread(); // before anyone sees the event
                return new MediaItem(MediaItemKind.Event, Event: new MediaEvent((MediaEventKind)item.EventCode, item.StreamIndex, item.Pts), Program: item.Program);
        }
    }

    /// <summary>The channel roles of a block: its programme's previous array while the layout stays the same (no allocation per block).</summary>
    private ChannelRole[] Roles(int program, ReadOnlySpan<int> native)
    {
        if (!_roles.TryGetValue(program, out var roles) || !MemoryMarshal.Cast<ChannelRole, int>(roles.AsSpan()).SequenceEqual(native))
            _roles[program] = roles = MemoryMarshal.Cast<int, ChannelRole>(native).ToArray();
        return roles;
    }

    /// <summary>Makes a blocked <see cref="Read"/> return (with <see cref="OperationCanceledException"/>). Thread-safe.</summary>
    public void Interrupt()
    {
        var ctx = _ctx;
        if (ctx != 0) NativeMethods.Interrupt(ctx);
    }

    /// <summary>Pictures reduced to analysis luma band by band while being decoded (single-threaded H.264/MPEG-2).</summary>
    internal long BandReducedPictures => _ctx != 0 ? NativeMethods.BandReducedPictures(_ctx) : 0;

    public void Dispose()
    {
        var ctx = Interlocked.Exchange(ref _ctx, 0);
        if (ctx == 0) return;
        NativeMethods.Close(ctx);
        _tap?.Dispose(); // after the shim, which calls it until closed
    }
}
