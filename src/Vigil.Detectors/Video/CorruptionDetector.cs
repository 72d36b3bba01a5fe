using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>What the corruption detector saw in the last frame (diagnostics, corpus traces).</summary>
/// <remarks><see cref="GlobalChange"/> is NaN when not measured: it is only needed when enough blocks broke.</remarks>
public readonly record struct CorruptionEvidence(
    bool DecoderFlags, bool BitstreamEvents, bool TimestampGap, double NewEdgeFraction, double GlobalChange, bool Damaged);

/// <summary>
/// <c>video.corruption</c>: visible damage from transmission or decoding errors. Decoder flags and the
/// demuxer's continuity errors mark only the first damaged frame (2 of 70 visibly damaged frames after a
/// 7-packet TS loss), and a frame lost whole raises no flag at all, only a gap in the timestamps, while
/// the damage itself propagates through every predicted frame until the next clean key frame. So a defect
/// starts on an error from the decoder (error flags, a rejected packet), on a timestamp gap (frames lost
/// whole), or on the picture itself: 8×8 blocks (full resolution, on the
/// coded grid, <see cref="BlockGridStats"/>) that suddenly look cut out, both their left and top edges
/// stepped and their inner lines not, in a picture that did not change as a whole (a cut or a flash
/// changes everything and is new content, not damage). A packet the demuxer flags corrupt (a continuity
/// error, but also a PES length mismatch on a clean real broadcast whose every picture decodes cleanly) is
/// a reason to look, not a verdict: for <see cref="LookSeconds"/> after it, a far smaller share of newly
/// broken blocks (<see cref="CorruptionOptions.LookOnset"/>, and well above what this stream's clean
/// pictures show) or any decoder error confirms it, and the defect starts at the confirming picture (the
/// flagged packet's own picture often still looks right: on the corpus the damage shows a few pictures
/// later, where it is confirmed). The defect then lasts until a key frame decodes
/// clean, in a stream without key frames (intra refresh) until a whole refresh period has passed since the
/// last evidence, or until <see cref="CorruptionOptions.MaxPropagation"/> passes without fresh evidence.
/// <c>details.area</c> is the larger of two lower bounds of the damaged area: the share of macroblocks
/// the decoder reported concealing in one picture (<see cref="VideoFrame.ConcealedArea"/>), and the share of
/// blocks that broke that way during the defect before the decoder concealed (concealed regions, copied
/// from an earlier picture, break only at their rim).
/// Once the decoder has concealed, the pixels are no evidence until the defect ends: with frame threads
/// the concealed picture, and those predicted from it, may read some rows of their references before the
/// concealment and some after, differently from run to run (measured: one run in five decodes a concealed
/// picture of the intra-refresh corpus clip differently), and what comes out must not depend on that. The
/// decoder's own flags, attached to their packet by the converter, are the same in every run.
/// Measured on the corpus, such blocks stay under 1–2 % of a damaged picture, so the picture-only onset
/// is kept strict (<see cref="CorruptionOptions.PictureOnset"/>) and fires only on large, decoder-silent damage.
/// The picture decoded from a stream's last packet before the input ended is not judged
/// (<see cref="VideoFrame.InputEnd"/>), nor the gap before the pictures shown after it: a recording stops mid-picture, and every real capture in the
/// corpus ends on one the decoder has to conceal.
/// </summary>
public sealed class CorruptionDetector : IVideoDetector, IMediaEventDetector
{
    public const string KindName = "video.corruption";

    private readonly CorruptionOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly int _videoStream;
    private readonly int[] _changeHistogram = new int[256];
    private ushort[] _previousSum = [];
    private byte[] _broken = [];          // per 8x8 block in this picture: 0xFF when it looks cut out
    private byte[] _previousBroken = [];  // the same for the previous picture
    private bool _comparable;             // this picture has the previous one's grid to compare with
    private bool[] _damaged = [];         // blocks that broke during the open defect
    private int _columns, _rows;
    private bool _hasPrevious;
    private bool _pendingEvents;
    private double _lastPts = double.NaN, _frameDuration;
    private bool _open;
    private double _lastEvidence;
    private double _lastRefreshStart = double.NaN; // key frame or recovery point
    private double _refreshPeriod;                 // between recovery points: intra refresh renews the picture within it
    private const int MinRefreshFrames = 5;
    private int _damagedCount;
    /// <summary>Seconds after a corrupt-flagged packet that weaker picture evidence confirms it.</summary>
    public const double LookSeconds = 1.0;
    private const double BaselineFactor = 3;        // confirming damage stands this far above the clean pictures' level
    private const double BaselineTimeConstant = 2;  // seconds of memory of that level
    private bool _pendingDecodeError;
    private bool _concealed;                        // the decoder concealed in the open defect: its pixels depend on thread timing
    private double _concealedArea;                  // the largest share of a picture the decoder concealed in the open defect
    private double _lastFlagged = double.NaN;       // the latest frame after a corrupt-flagged packet, while looked into
    private double _baseline;                       // newly broken share of this stream's clean pictures

    public CorruptionDetector(CorruptionOptions options, IDefectSink sink, int videoStream = -1)
    {
        _options = options;
        _videoStream = videoStream;
        _tracker = new IntervalTracker(KindName, 0, sink)
        {
            Details = () => new Dictionary<string, double>
            {
                ["area"] = Math.Round(Math.Max(_concealedArea, _damagedCount / (double)Math.Max(1, _columns * _rows)), 4),
            },
        };
    }

    public string Kind => KindName;

    public CorruptionEvidence LastEvidence { get; private set; }

    public void Process(MediaEvent mediaEvent)
    {
        if (_videoStream >= 0 && mediaEvent.StreamIndex != _videoStream) return;
        // the demuxer's corrupt flag, or on MPEG-TS the transport analyser's lost packets, which replace it there
        if (mediaEvent.Kind is MediaEventKind.PacketCorrupt or MediaEventKind.PacketsLost) _pendingEvents = true;
        else if (mediaEvent.Kind == MediaEventKind.DecodeError) _pendingDecodeError = true;
    }

    public void Process(VideoFrame frame)
    {
        // the last packet of a cut capture is incomplete by construction: its picture is no evidence either
        // way, nor a reference for the pictures still to come out (shown after it, decoded before it)
        if (frame.InputEnd == InputEnd.Incomplete)
        {
            _pendingEvents = _pendingDecodeError = false;
            TimestampGap(frame);
            _hasPrevious = false;
            return;
        }
        // an error from the decoder itself: its flags on this picture or on a picture this one is predicted
        // from (a B-picture shown before the damaged P it refers to), or a packet it rejected
        var flags = frame.DecodeErrors != DecodeErrors.None || frame.IsCorrupt || frame.HasConcealedReference || _pendingDecodeError;
        var events = _pendingEvents;
        _pendingEvents = _pendingDecodeError = false;
        // pictures shown after the input's last one miss those whose packets came after the end, not lost ones
        var gap = TimestampGap(frame) && frame.InputEnd != InputEnd.AfterMissing;
        var newEdges = NewlyBrokenShare(frame.Grid);
        var key = frame.IsKeyFrame || frame.PictureType == PictureType.I;
        var looking = Look(frame.Pts, events, key);
        // after a concealment in the open defect the pixels depend on thread timing (see the class notes)
        var pixelsTrusted = !(_open && (_concealed || flags));
        // new discontinuities in a picture that did not change as a whole: damage the decoder did not report.
        // The global change is measured only for such a candidate (rare): it costs a pass over every block.
        var confirming = pixelsTrusted && looking && newEdges >= Math.Max(_options.LookOnset, BaselineFactor * _baseline);
        var candidate = pixelsTrusted && !key && (newEdges >= _options.PictureOnset || confirming);
        var globalChange = candidate ? MedianChange(frame.Grid) : double.NaN;
        var still = candidate && globalChange <= _options.GlobalChange;
        var picture = still && newEdges >= _options.PictureOnset;

        var start = frame.Pts;
        var end = frame.Pts + frame.Duration;
        NoteRefresh(frame, key);
        // weaker picture evidence confirms a flagged packet, but does not prolong damage already open
        // (the damage moving through predicted pictures breaks new blocks until the picture is renewed)
        if (flags || gap || picture || (!_open && still && confirming))
        {
            if (!_open) StartDamage();
            _lastEvidence = frame.Pts;
        }
        else if (_open && (key || Refreshed(frame.Pts) || frame.Pts - _lastEvidence > _options.MaxPropagation))
        {
            // a clean key frame refreshes the whole picture: the damage ends where it begins
            _open = false;
        }
        if (_open && flags) _concealed = true;
        if (_open)
        {
            _concealedArea = Math.Max(_concealedArea, frame.ConcealedArea);
            if (!_concealed) MarkDamagedBlocks();
        }
        else if (!key && _comparable)
            _baseline += (1 - Math.Exp(-Math.Max(frame.Duration, 0.001) / BaselineTimeConstant)) * (newEdges - _baseline);
        _tracker.Update(_open, start, end, _open ? (flags || picture ? 1.0 : 0.8) : 0);
        LastEvidence = new CorruptionEvidence(flags, events, gap, newEdges, globalChange, _open);
        Remember(frame);
    }

    public void Tick(double now) => _tracker.Tick(now);

    /// <summary>
    /// Lost frames and timestamp jumps are evidence of damage, not the end of it: only time running
    /// backwards, or a hole longer than damage can propagate, ends the defect.
    /// </summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track != MediaTrack.Video) return;
        if (discontinuity.Cause == DiscontinuityCause.Overlap || discontinuity.Missing > _options.MaxPropagation) _tracker.Break();
    }

    public void Flush(double endOfInput, string closedBy) => _tracker.Close(closedBy: closedBy);

    /// <summary>
    /// Whether a corrupt-flagged packet is being looked into: until <see cref="LookSeconds"/> after the
    /// latest flagged frame, or until a key frame without a flag renews the picture.
    /// </summary>
    private bool Look(double pts, bool flagged, bool key)
    {
        if (flagged) _lastFlagged = pts;
        else if (key || pts - _lastFlagged > LookSeconds) _lastFlagged = double.NaN;
        return !double.IsNaN(_lastFlagged);
    }


    private void StartDamage()
    {
        _concealed = false;
        _concealedArea = 0;
        _open = true;
        Array.Clear(_damaged);
        _damagedCount = 0;
    }

    /// <summary>
    /// A stream without key frames (intra refresh) marks where each wave of intra blocks starts: a
    /// recovery point. The waves sweep the picture once per period, so damage at time d is renewed by
    /// d + period wherever it lies: blocks the wave had not reached yet are refreshed later in the same
    /// wave, those it had passed in the next one.
    /// </summary>
    private void NoteRefresh(VideoFrame frame, bool key)
    {
        if (!key && !frame.IsRecoveryPoint) return;
        if (frame.IsRecoveryPoint && !double.IsNaN(_lastRefreshStart))
        {
            // a "recovery point" every frame or two is a mislabelled stream (a random-access flag on every
            // packet), not a refresh wave: trusting it would end every defect a frame after its evidence
            var period = frame.Pts - _lastRefreshStart;
            if (period >= MinRefreshFrames * _frameDuration && period <= _options.MaxPropagation) _refreshPeriod = period;
        }
        _lastRefreshStart = frame.Pts;
    }

    /// <summary>
    /// A whole refresh period has passed since the last evidence of damage (intra-refresh streams only);
    /// on the corpus the picture is still damaged at exactly d + period and clean one frame later.
    /// </summary>
    private bool Refreshed(double pts) => _refreshPeriod > 0 && pts - _lastEvidence > _refreshPeriod + _frameDuration / 2;

    private bool TimestampGap(VideoFrame frame)
    {
        var gap = false;
        if (!double.IsNaN(_lastPts) && _frameDuration > 0)
        {
            var step = frame.Pts - _lastPts;
            // a jump beyond MaxPropagation is a discontinuity of the timeline, not lost frames
            gap = step > _options.GapFrames * _frameDuration && step < _options.MaxPropagation;
        }
        if (frame.Duration > 0) _frameDuration = frame.Duration;
        _lastPts = frame.Pts;
        return gap;
    }

    /// <summary>
    /// Marks the blocks that look broken in this picture — both their left and top edges stepped, their
    /// inner column and row not: a rectangle of content that does not continue its neighbours — and returns
    /// the share of blocks broken now but not in the previous picture. 16 blocks a step (SIMD): this runs
    /// on every frame, over every block of the full-resolution grid.
    /// </summary>
    private double NewlyBrokenShare(BlockGridStats grid)
    {
        (_broken, _previousBroken) = (_previousBroken, _broken);
        var count = grid.BlockCount;
        _comparable = false;
        if (!grid.IsValid || count == 0) return 0;
        _comparable = _hasPrevious && grid.BlockColumns == _columns && grid.BlockRows == _rows;
        if (_broken.Length != count) _broken = new byte[count];
        ref var left = ref MemoryMarshal.GetReference(grid.EdgeLeft);
        ref var top = ref MemoryMarshal.GetReference(grid.EdgeTop);
        ref var innerLeft = ref MemoryMarshal.GetReference(grid.InnerLeft);
        ref var innerTop = ref MemoryMarshal.GetReference(grid.InnerTop);
        ref var broken = ref MemoryMarshal.GetArrayDataReference(_broken);
        ref var previous = ref MemoryMarshal.GetArrayDataReference(_previousBroken);
        var step = (ushort)_options.EdgeStep;
        var half = (ushort)(step / 2);
        var fresh = 0;
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var stepV = Vector128.Create(step);
            var halfV = Vector128.Create(half);
            for (; i <= count - 16; i += 16)
            {
                var mask = Vector128.Narrow( // 0xFFFF -> 0xFF
                    Broken8(ref left, ref top, ref innerLeft, ref innerTop, (nuint)i, stepV, halfV),
                    Broken8(ref left, ref top, ref innerLeft, ref innerTop, (nuint)i + 8, stepV, halfV));
                mask.StoreUnsafe(ref broken, (nuint)i);
                if (_comparable)
                    fresh += BitOperations.PopCount(Vector128.AndNot(mask, Vector128.LoadUnsafe(ref previous, (nuint)i)).ExtractMostSignificantBits());
            }
        }
        for (; i < count; i++)
        {
            var isBroken = Unsafe.Add(ref left, i) >= step && Unsafe.Add(ref top, i) >= step
                           && Unsafe.Add(ref innerLeft, i) < half && Unsafe.Add(ref innerTop, i) < half;
            Unsafe.Add(ref broken, i) = isBroken ? (byte)0xFF : (byte)0;
            if (_comparable && isBroken && Unsafe.Add(ref previous, i) == 0) fresh++;
        }
        return _comparable ? fresh / (double)count : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Broken8(ref ushort left, ref ushort top, ref ushort innerLeft, ref ushort innerTop, nuint at,
        Vector128<ushort> step, Vector128<ushort> half) =>
        Vector128.GreaterThanOrEqual(Vector128.LoadUnsafe(ref left, at), step)
        & Vector128.GreaterThanOrEqual(Vector128.LoadUnsafe(ref top, at), step)
        & Vector128.LessThan(Vector128.LoadUnsafe(ref innerLeft, at), half)
        & Vector128.LessThan(Vector128.LoadUnsafe(ref innerTop, at), half);

    /// <summary>Median over blocks of how much their mean luma changed since the previous picture (code values).</summary>
    private double MedianChange(BlockGridStats grid)
    {
        if (!_comparable) return 0;
        Array.Clear(_changeHistogram);
        var sums = grid.Sum;
        for (var i = 0; i < sums.Length; i++)
            _changeHistogram[Math.Min(Math.Abs(sums[i] - _previousSum[i]) >> 6, 255)]++;
        var seen = 0;
        for (var b = 0; b < _changeHistogram.Length; b++)
        {
            seen += _changeHistogram[b];
            if (seen > sums.Length / 2) return b;
        }
        return 255;
    }

    /// <summary>Adds this picture's newly broken blocks to the damaged area of the open defect.</summary>
    private void MarkDamagedBlocks()
    {
        if (!_comparable) return;
        for (var i = 0; i < _broken.Length; i++)
            if ((_broken[i] & ~_previousBroken[i]) != 0 && !_damaged[i])
            {
                _damaged[i] = true;
                _damagedCount++;
            }
    }

    private void Remember(VideoFrame frame)
    {
        var grid = frame.Grid;
        if (!grid.IsValid) { _hasPrevious = false; return; }
        if (grid.BlockColumns != _columns || grid.BlockRows != _rows || _previousSum.Length != grid.BlockCount)
        {
            _columns = grid.BlockColumns;
            _rows = grid.BlockRows;
            _previousSum = new ushort[grid.BlockCount];
            _damaged = new bool[grid.BlockCount];
            _damagedCount = 0;
        }
        grid.Sum.CopyTo(_previousSum);
        _hasPrevious = true;
    }
}
