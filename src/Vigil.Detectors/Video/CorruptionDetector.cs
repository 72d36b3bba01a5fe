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
/// signal starts a defect — decoder flags, bitstream events (continuity errors, rejected packets) on
/// the video stream, timestamp gaps, and the picture itself: macroblocks whose edges (full-resolution,
/// on the 16-px grid, <see cref="BlockGridStats"/>) suddenly carry flat-sided steps they did not carry in
/// the previous frame, while the rest of the picture did not change as a whole (a cut or a flash
/// changes everything and is new content, not damage). The defect then lasts until a key frame
/// decodes clean, or until <see cref="CorruptionOptions.MaxPropagation"/> passes without fresh evidence.
/// <c>details.area</c> is the share of macroblocks that showed new discontinuities during the defect.
/// </summary>
public sealed class CorruptionDetector : IVideoDetector, IMediaEventDetector
{
    public const string KindName = "video.corruption";

    private readonly CorruptionOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly int _videoStream;
    private readonly int[] _changeHistogram = new int[256];
    private ushort[] _previousEdge = [];
    private uint[] _previousSum = [];
    private bool[] _damagedMbs = [];
    private int _mbColumns, _mbRows;
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
                ["area"] = Math.Round(_damagedMbs.Length == 0 ? 0 : _damagedCount / (double)Math.Max(1, _mbColumns * _mbRows), 4),
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
        if (_open && frame.Grid.IsValid) MarkDamagedMbs(frame.Grid);
        _tracker.Update(_open, frame.Pts, end, _open ? (flags || picture ? 1.0 : 0.8) : 0);
        LastEvidence = new CorruptionEvidence(flags, events, gap, newEdges, globalChange, _open);
        Remember(frame);
    }

    public void Flush(double endOfInput) => _tracker.Close();

    private void StartDamage()
    {
        _open = true;
        Array.Clear(_damagedMbs);
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

    /// <summary>Share of macroblocks with new edge discontinuities, and the median change of macroblock means.</summary>
    private (double NewEdges, double GlobalChange) CompareWithPrevious(BlockGridStats grid)
    {
        if (!grid.IsValid || !_hasPrevious || grid.MbColumns != _mbColumns || grid.MbRows != _mbRows || grid.MbCount == 0)
            return (0, 0);
        var edges = grid.MbEdge;
        var sums = grid.MbSum;
        var rise = _options.EdgeRise;
        Array.Clear(_changeHistogram);
        var count = 0;
        for (var i = 0; i < edges.Length; i++)
        {
            if (edges[i] >= _previousEdge[i] + rise) count++;
            var change = (int)Math.Abs((long)sums[i] - _previousSum[i]) >> 8; // mean change, code values
            _changeHistogram[Math.Min(change, 255)]++;
        }
        var half = edges.Length / 2;
        var seen = 0;
        var median = 255;
        for (var b = 0; b < _changeHistogram.Length; b++)
        {
            seen += _changeHistogram[b];
            if (seen > half) { median = b; break; }
        }
        return (count / (double)edges.Length, median);
    }

    private void MarkDamagedMbs(BlockGridStats grid)
    {
        if (!_hasPrevious || grid.MbColumns != _mbColumns || grid.MbRows != _mbRows) return;
        var edges = grid.MbEdge;
        for (var i = 0; i < edges.Length; i++)
            if (!_damagedMbs[i] && edges[i] >= _previousEdge[i] + _options.EdgeRise)
            {
                _damagedMbs[i] = true;
                _damagedCount++;
            }
    }

    private void Remember(VideoFrame frame)
    {
        var grid = frame.Grid;
        if (!grid.IsValid) { _hasPrevious = false; return; }
        if (grid.MbColumns != _mbColumns || grid.MbRows != _mbRows || _previousEdge.Length != grid.MbCount)
        {
            _mbColumns = grid.MbColumns;
            _mbRows = grid.MbRows;
            _previousEdge = new ushort[grid.MbCount];
            _previousSum = new uint[grid.MbCount];
            _damagedMbs = new bool[grid.MbCount];
            _damagedCount = 0;
        }
        grid.MbEdge.CopyTo(_previousEdge);
        grid.MbSum.CopyTo(_previousSum);
        _hasPrevious = true;
    }
}
