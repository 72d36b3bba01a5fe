using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>What the corruption detector saw in the last frame (diagnostics, corpus traces).</summary>
public readonly record struct CorruptionEvidence(
    bool DecoderFlags, bool BitstreamEvents, bool TimestampGap, double NewEdgeFraction, double GlobalChange, bool Damaged);

/// <summary>
/// <c>video.corruption</c>: visible damage from transmission or decoding errors. Decoder flags and the
/// demuxer's continuity errors mark only the first damaged frame (2 of 70 visibly damaged frames after a
/// 7-packet TS loss), and a frame lost whole raises no flag at all, only a gap in the timestamps, while
/// the damage itself propagates through every predicted frame until the next clean key frame. So every
/// signal starts a defect — decoder flags, bitstream events (continuity errors, rejected packets) on the
/// video stream, timestamp gaps — and so does the picture itself: 8×8 blocks (full resolution, on the
/// coded grid, <see cref="BlockGridStats"/>) that suddenly look cut out, both their left and top edges
/// stepped and their inner lines not, in a picture that did not change as a whole (a cut or a flash
/// changes everything and is new content, not damage). The defect then lasts until a key frame decodes
/// clean, or until <see cref="CorruptionOptions.MaxPropagation"/> passes without fresh evidence.
/// <c>details.area</c> is the share of blocks that broke that way during the defect: a lower bound of
/// the damaged area, since concealed regions (copied from an earlier picture) break only at their rim.
/// Measured on the corpus, such blocks stay under 1–2 % of a damaged picture, so the picture-only onset
/// is kept strict (<see cref="CorruptionOptions.PictureOnset"/>) and fires only on large, decoder-silent damage.
/// </summary>
public sealed class CorruptionDetector : IVideoDetector, IMediaEventDetector
{
    public const string KindName = "video.corruption";

    private readonly CorruptionOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly int _videoStream;
    private readonly int[] _changeHistogram = new int[256];
    private ushort[] _previousSum = [];
    private bool[] _broken = [];   // per 8x8 block, in the previous picture (then this one)
    private bool[] _fresh = [];    // broken in this picture, not in the previous one
    private bool[] _damaged = [];  // blocks that broke during the open defect
    private int _columns, _rows;
    private bool _hasPrevious;
    private bool _pendingEvents;
    private double _lastPts = double.NaN, _frameDuration;
    private bool _open;
    private double _lastEvidence;
    private int _damagedCount;

    public CorruptionDetector(CorruptionOptions options, IDefectSink sink, int videoStream = -1)
    {
        _options = options;
        _videoStream = videoStream;
        // the time jump that opens a defect must not be taken for a discontinuity that closes it
        _tracker = new IntervalTracker(KindName, 0, sink, maxJump: options.MaxPropagation)
        {
            Details = () => new Dictionary<string, double>
            {
                ["area"] = Math.Round(_damagedCount / (double)Math.Max(1, _columns * _rows), 4),
            },
        };
    }

    public string Kind => KindName;

    public CorruptionEvidence LastEvidence { get; private set; }

    public void Process(MediaEvent mediaEvent)
    {
        if (_videoStream < 0 || mediaEvent.StreamIndex == _videoStream) _pendingEvents = true;
    }

    public void Process(VideoFrame frame)
    {
        var flags = frame.DecodeErrors != DecodeErrors.None || frame.IsCorrupt;
        var events = _pendingEvents;
        _pendingEvents = false;
        var gap = TimestampGap(frame);
        if (_fresh.Length != frame.Grid.BlockCount) _fresh = new bool[frame.Grid.BlockCount];
        var (newEdges, globalChange) = CompareWithPrevious(frame.Grid);
        var key = frame.IsKeyFrame || frame.PictureType == PictureType.I;
        // new discontinuities in a picture that did not change as a whole: damage the decoder did not report
        var picture = !key && newEdges >= _options.PictureOnset && globalChange <= _options.GlobalChange;

        var end = frame.Pts + frame.Duration;
        if (flags || events || gap || picture)
        {
            if (!_open) StartDamage();
            _lastEvidence = frame.Pts;
        }
        else if (_open && (key || frame.Pts - _lastEvidence > _options.MaxPropagation))
        {
            // a clean key frame refreshes the whole picture: the damage ends where it begins
            _open = false;
        }
        if (_open) MarkDamagedBlocks();
        _tracker.Update(_open, frame.Pts, end, _open ? (flags || picture ? 1.0 : 0.8) : 0);
        LastEvidence = new CorruptionEvidence(flags, events, gap, newEdges, globalChange, _open);
        Remember(frame);
    }

    public void Flush(double endOfInput) => _tracker.Close();

    private void StartDamage()
    {
        _open = true;
        Array.Clear(_damaged);
        _damagedCount = 0;
    }

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
    /// A block looks broken when both its left and top edges carry steps while its inner column and row
    /// do not: a rectangle of content that does not continue its neighbours.
    /// </summary>
    private static bool Broken(int i, ReadOnlySpan<ushort> left, ReadOnlySpan<ushort> top, ReadOnlySpan<ushort> innerLeft,
        ReadOnlySpan<ushort> innerTop, int step) =>
        left[i] >= step && top[i] >= step && innerLeft[i] < step / 2 && innerTop[i] < step / 2;

    /// <summary>Share of blocks broken now but not in the previous picture, and the median change of block means.</summary>
    private (double NewEdges, double GlobalChange) CompareWithPrevious(BlockGridStats grid)
    {
        Array.Clear(_changeHistogram);
        var count = grid.BlockCount;
        if (!grid.IsValid || count == 0) return (0, 0);
        var comparable = _hasPrevious && grid.BlockColumns == _columns && grid.BlockRows == _rows;
        if (_broken.Length != count) _broken = new bool[count];
        var left = grid.EdgeLeft;
        var top = grid.EdgeTop;
        var innerLeft = grid.InnerLeft;
        var innerTop = grid.InnerTop;
        var sums = grid.Sum;
        var step = _options.EdgeStep;
        var fresh = 0;
        for (var i = 0; i < count; i++)
        {
            var broken = Broken(i, left, top, innerLeft, innerTop, step);
            if (comparable)
            {
                if (broken && !_broken[i]) fresh++;
                var change = Math.Abs(sums[i] - _previousSum[i]) >> 6; // mean change, code values
                _changeHistogram[Math.Min(change, 255)]++;
            }
            _fresh[i] = broken && !_broken[i] && comparable;
            _broken[i] = broken;
        }
        if (!comparable) return (0, 0);
        var seen = 0;
        var median = 255;
        for (var b = 0; b < _changeHistogram.Length; b++)
        {
            seen += _changeHistogram[b];
            if (seen > count / 2) { median = b; break; }
        }
        return (fresh / (double)count, median);
    }

    private void MarkDamagedBlocks()
    {
        for (var i = 0; i < _fresh.Length; i++)
            if (_fresh[i] && !_damaged[i])
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
