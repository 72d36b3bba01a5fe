using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.freeze</c>: the picture does not change for at least the minimum duration.
/// Each picture is compared, cell by cell (16×16 mean luma), with the first picture of the candidate
/// freeze, as freezedetect does, but a whole-frame average is never used: one small moving clock is
/// enough motion (freezedetect calls such a slate frozen). Cell means average grain and encoder noise
/// away, and the change threshold adapts to the noise measured in the same picture (median cell
/// change), so grain does not hide a freeze either. Black pictures are black, not frozen.
/// </summary>
public sealed class FreezeDetector : IVideoDetector
{
    public const string KindName = "video.freeze";

    /// <summary>Median |N(0,σ)| = 0.674σ; threshold = 6σ keeps pure noise under it across ~1000 cells.</summary>
    private const double NoiseSigmasPerMedian = 1 / 0.6745;
    private const double NoiseSigmas = 6;
    private const double HistogramStep = 0.25;
    /// <summary>A gap between pictures longer than this is a discontinuity (as <see cref="IntervalTracker"/>'s default).</summary>
    private const double MaxJump = 1.0;

    private readonly FreezeOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly BlackFrameClassifier _black;
    private readonly LumaCells _cells = new();
    private int[] _reference = [];
    private bool[] _masked = [];
    private readonly int[] _histogram = new int[256];
    private bool _hasReference;
    private double _referencePts, _referenceEnd;
    private int _width, _height;
    private double _largestStaticChange;

    public FreezeDetector(FreezeOptions options, IDefectSink sink)
    {
        _options = options;
        _black = new BlackFrameClassifier(new BlackOptions());
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink)
        {
            Details = () => new Dictionary<string, double> { ["max_cell_change"] = Math.Round(_largestStaticChange, 2) },
        };
    }

    public string Kind => KindName;

    public void Process(VideoFrame frame)
    {
        _cells.Measure(frame);
        var end = frame.Pts + frame.Duration;
        if (!_hasReference || frame.Width != _width || frame.Height != _height)
        {
            // first picture, or the resolution changed: nothing to compare with
            _tracker.Close();
            Adopt(frame);
            return;
        }
        if (!_tracker.IsOpen && (frame.Pts < _referenceEnd - 1e-3 || frame.Pts - _referenceEnd > MaxJump))
        {
            // a freeze would start at the reference picture, on the far side of a timestamp jump:
            // start over from this picture so no freeze straddles the discontinuity
            Adopt(frame);
            return;
        }

        var largest = Compare(out var moving);
        if (moving || _black.IsBlack(frame))
        {
            // picture changed: the freeze (if any) ended where this picture begins
            _tracker.Update(false, frame.Pts, end);
            Adopt(frame);
            return;
        }

        if (!_tracker.IsOpen) _largestStaticChange = 0;
        _largestStaticChange = Math.Max(_largestStaticChange, largest);
        // the frozen picture began with the reference picture, not this one
        var start = _tracker.IsOpen ? frame.Pts : _referencePts;
        // the closer the largest remaining change came to the motion threshold, the less certain
        _tracker.Update(true, start, end, Math.Clamp(1 - largest / (2 * _options.MaxCellChange), 0.5, 1));
    }

    public void Flush(double endOfInput) => _tracker.Close();

    /// <summary>Largest unmasked cell change against the reference; sets <paramref name="moving"/>.</summary>
    private double Compare(out bool moving)
    {
        var sums = _cells.Sum;
        var pixels = _cells.Pixels;
        Array.Clear(_histogram);
        double signedTotal = 0, largest = 0;
        var counted = 0;
        for (var i = 0; i < sums.Length; i++)
        {
            if (_masked[i]) continue;
            var change = (sums[i] - _reference[i]) / (double)pixels[i];
            signedTotal += change;
            var magnitude = Math.Abs(change);
            _histogram[Math.Min(_histogram.Length - 1, (int)(magnitude / HistogramStep))]++;
            counted++;
        }
        if (counted == 0) { moving = false; return 0; }

        var threshold = Math.Clamp(NoiseSigmas * NoiseSigmasPerMedian * Median(counted), _options.MinCellChange, _options.MaxCellChange);
        var changed = 0;
        for (var i = 0; i < sums.Length; i++)
        {
            if (_masked[i]) continue;
            var magnitude = Math.Abs((sums[i] - _reference[i]) / (double)pixels[i]);
            if (magnitude > threshold) changed++;
            else largest = Math.Max(largest, magnitude);
        }
        moving = changed >= _options.MinChangedCells || Math.Abs(signedTotal / counted) > _options.MinGlobalChange;
        return largest;
    }

    private double Median(int count)
    {
        var half = count / 2;
        var seen = 0;
        for (var b = 0; b < _histogram.Length; b++)
        {
            seen += _histogram[b];
            if (seen > half) return (b + 0.5) * HistogramStep;
        }
        return _histogram.Length * HistogramStep;
    }

    private void Adopt(VideoFrame frame)
    {
        if (_reference.Length != _cells.Count) _reference = new int[_cells.Count];
        _cells.Sum.CopyTo(_reference);
        if (frame.Width != _width || frame.Height != _height || _masked.Length != _cells.Count)
        {
            _width = frame.Width;
            _height = frame.Height;
            _masked = new bool[_cells.Count];
            for (var r = 0; r < _cells.Rows; r++)
                for (var c = 0; c < _cells.Columns; c++)
                    _masked[r * _cells.Columns + c] = _options.Mask.Covers(
                        (c + 0.5) * LumaCells.CellSize / _width, (r + 0.5) * LumaCells.CellSize / _height);
        }
        _referencePts = frame.Pts;
        _referenceEnd = frame.Pts + frame.Duration;
        _hasReference = true;
    }
}
