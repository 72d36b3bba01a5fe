using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.freeze</c>: the picture does not change for at least the minimum duration.
/// Each picture is compared, cell by cell (16×16), with the first picture of the candidate freeze, as
/// freezedetect does, but a whole-frame average is never used: one small moving clock is enough
/// motion (freezedetect calls such a slate frozen). Two measures per cell: the change of its mean,
/// which averages grain and encoder noise away, and the mean absolute pixel difference, which sees
/// fine texture scrolling or panning through a cell whose mean stays put. Both thresholds adapt to the
/// noise measured in the same picture (the median cell) within capped bounds, so grain hides neither
/// a freeze nor real motion. Black pictures are black, not frozen.
/// </summary>
public sealed class FreezeDetector : IVideoDetector
{
    public const string KindName = "video.freeze";

    /// <summary>Median |N(0,σ)| = 0.674σ; threshold = 6σ keeps pure noise under it across ~1000 cells.</summary>
    private const double NoiseSigmasPerMedian = 1 / 0.6745;
    private const double NoiseSigmas = 6;
    private const double HistogramStep = 0.25;

    private readonly FreezeOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly BlackFrameClassifier _black;
    private readonly LumaCells _cells = new();
    private int[] _reference = [];
    private bool[] _masked = [];
    private byte[] _referenceLuma = [];
    private readonly int[] _histogram = new int[256];
    private bool _hasReference;
    private double _referencePts;
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
        var end = frame.Pts + frame.Duration;
        if (!_hasReference || frame.Width != _width || frame.Height != _height)
        {
            // first picture, or the resolution changed: nothing to compare with
            _cells.Measure(frame);
            _tracker.Close();
            Adopt(frame);
            return;
        }
        _cells.MeasureWithDifference(frame, _referenceLuma);

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

    public void Tick(double now) => _tracker.Tick(now);

    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track != MediaTrack.Video) return;
        // a freeze would start at the reference picture, on the far side of the break: start over
        // from the next picture so no freeze straddles the discontinuity
        _tracker.Break();
        _hasReference = false;
    }

    public void Flush(double endOfInput, string closedBy) => _tracker.Close(closedBy: closedBy);

    /// <summary>Largest unmasked cell-mean change against the reference; sets <paramref name="moving"/>.</summary>
    private double Compare(out bool moving)
    {
        var sums = _cells.Sum;
        var differences = _cells.Difference;
        var pixels = _cells.Pixels;
        double signedTotal = 0, largest = 0;
        var counted = 0;

        // noise level of each measure: the median cell of this very picture
        Array.Clear(_histogram);
        for (var i = 0; i < sums.Length; i++)
        {
            if (_masked[i]) continue;
            var change = (sums[i] - _reference[i]) / (double)pixels[i];
            signedTotal += change;
            counted++;
            Count(Math.Abs(change));
        }
        if (counted == 0) { moving = false; return 0; }
        var meanThreshold = Math.Clamp(NoiseSigmas * NoiseSigmasPerMedian * Median(counted), _options.MinCellChange, _options.MaxCellChange);

        Array.Clear(_histogram);
        for (var i = 0; i < sums.Length; i++)
            if (!_masked[i]) Count(differences[i] / (double)pixels[i]);
        // pixel differences of pure noise are nearly equal across cells (each averages 256 of them): twice the median is clear of it
        var textureThreshold = Math.Clamp(2 * Median(counted), _options.MinTextureChange, _options.MaxTextureChange);

        int changedMeans = 0, changedTexture = 0;
        for (var i = 0; i < sums.Length; i++)
        {
            if (_masked[i]) continue;
            var magnitude = Math.Abs((sums[i] - _reference[i]) / (double)pixels[i]);
            if (magnitude > meanThreshold) changedMeans++;
            else largest = Math.Max(largest, magnitude);
            if (differences[i] > textureThreshold * pixels[i]) changedTexture++;
        }
        moving = changedMeans >= _options.MinChangedCells
                 || changedTexture >= _options.MinChangedCells
                 || Math.Abs(signedTotal / counted) > _options.MinGlobalChange;
        return largest;
    }

    private void Count(double magnitude) => _histogram[Math.Min(_histogram.Length - 1, (int)(magnitude / HistogramStep))]++;

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
        if (_referenceLuma.Length != frame.Luma.Length) _referenceLuma = new byte[frame.Luma.Length];
        frame.Luma.CopyTo(_referenceLuma);
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
        _hasReference = true;
    }
}
