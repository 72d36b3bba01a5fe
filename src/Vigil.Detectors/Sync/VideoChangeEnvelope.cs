using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Detectors.Sync;

/// <summary>
/// Video event envelope: how much of each picture is new (a cut, a flash, a burst of motion), placed on
/// the grid at the picture's timestamp. Change is the mean absolute difference of 16×16 cell means
/// (<see cref="LumaCells"/>: one SIMD pass, encoder noise averaged away) against the previous picture
/// AND against a slow background picture (~0.5 s memory); the smaller of the two counts. So a flash
/// scores when it appears but not when the picture returns to what it was (audio onsets have no
/// "offset" twin, and a flash-off would otherwise pair with the beep one flash-length early), while a
/// cut scores once. A running mean of the score is subtracted so steady motion is background.
/// </summary>
public sealed class VideoChangeEnvelope
{
    private const double BackgroundTimeConstant = 0.5; // seconds of memory of the slow background picture
    private const double FloorTimeConstant = 0.5;      // seconds, running mean of the score removed as background
    private const double MaxFrameGap = 0.5;            // a longer gap between pictures restarts the comparison

    private readonly EnvelopeGrid _grid;
    private readonly LumaCells _cells = new();
    private float[] _previous = [], _background = [], _inversePixels = [];
    private int _width, _height;
    private bool _hasPrevious;
    private double _lastPts = double.NaN;
    private double _floor;

    public VideoChangeEnvelope(EnvelopeGrid grid) => _grid = grid;

    /// <summary>Pictures analysed so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Media time up to which pictures have been analysed (end of the last one).</summary>
    public double Reached { get; private set; } = double.NegativeInfinity;

    /// <summary>The last picture's change score before the background was removed (code values), for diagnostics.</summary>
    public double LastChange { get; private set; }

    /// <summary>Adds one picture's change to the grid.</summary>
    public void Process(VideoFrame frame)
    {
        _cells.Measure(frame);
        var count = _cells.Count;
        if (frame.Width != _width || frame.Height != _height || _previous.Length != count)
        {
            _width = frame.Width;
            _height = frame.Height;
            _previous = new float[count];
            _background = new float[count];
            _inversePixels = new float[count];
            var pixels = _cells.Pixels;
            for (var i = 0; i < count; i++) _inversePixels[i] = 1f / pixels[i];
            _hasPrevious = false;
        }
        var gap = frame.Pts - _lastPts;
        if (double.IsNaN(gap) || gap <= 0 || gap > MaxFrameGap) _hasPrevious = false;
        _lastPts = frame.Pts;
        Frames++;
        Reached = Math.Max(Reached, frame.Pts + frame.Duration);

        var sums = _cells.Sum;
        if (!_hasPrevious)
        {
            for (var i = 0; i < count; i++) _previous[i] = _background[i] = sums[i] * _inversePixels[i];
            _hasPrevious = true;
            return;
        }

        var alpha = (float)(1 - Math.Exp(-gap / BackgroundTimeConstant));
        double fromPrevious = 0, fromBackground = 0;
        for (var i = 0; i < count; i++)
        {
            var mean = sums[i] * _inversePixels[i];
            fromPrevious += Math.Abs(mean - _previous[i]);
            fromBackground += Math.Abs(mean - _background[i]);
            _previous[i] = mean;
            _background[i] += alpha * (mean - _background[i]);
        }
        var change = Math.Min(fromPrevious, fromBackground) / count;
        LastChange = change;
        var score = change - _floor;
        _floor += (1 - Math.Exp(-gap / FloorTimeConstant)) * (change - _floor);
        if (score > 0) _grid.Add(frame.Pts, (float)score);
    }

    /// <summary>Forgets the picture history (a discontinuity); the grid is the caller's.</summary>
    public void Reset()
    {
        _hasPrevious = false;
        _lastPts = double.NaN;
        _floor = 0;
        Reached = double.NegativeInfinity;
    }
}
