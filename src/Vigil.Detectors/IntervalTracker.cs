namespace Vigil.Detectors;

/// <summary>
/// The start/end state machine every interval detector shares. Fed one verdict per analysis unit
/// (a frame, a 10 ms audio block) with the unit's media-time span, it reports a defect once the
/// condition has held for <c>minDuration</c> (so live alerts are not delayed by the defect's
/// length) and again when it ends. Gaps in the condition up to <c>bridge</c> seconds long do not
/// end it (a click inside silence). An interval never straddles a discontinuity: the detector calls
/// <see cref="Break"/> when the pipeline reports one, and the interval ends at its last good time,
/// as freezedetect does at discontinuities.
/// </summary>
public sealed class IntervalTracker(
    string kind,
    double minDuration,
    IDefectSink sink,
    double bridge = 0,
    int? stream = null)
{
    private bool _open;            // the condition holds (possibly not yet for minDuration)
    private bool _reported;        // DefectStarted was sent
    private double _start, _end;   // span of the condition so far
    private double _gapStart = double.NaN;
    private double _lastTime = double.NaN;
    private double _confidenceSum;
    private int _units;

    /// <summary>Kind-specific numbers added to the events, read when an event is sent.</summary>
    public Func<IReadOnlyDictionary<string, double>?>? Details { get; set; }

    public bool IsOpen => _open;
    public bool IsReported => _reported;

    /// <summary>Feeds one unit spanning [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public void Update(bool active, double start, double end, double confidence = 1.0)
    {
        _lastTime = end;

        if (active)
        {
            if (!_open)
            {
                // the condition starts here
                _open = true;
                _start = start;
                _confidenceSum = 0;
                _units = 0;
            }
            _end = end;
            _gapStart = double.NaN;
            _confidenceSum += confidence;
            _units++;
            if (!_reported && _end - _start >= minDuration - 1e-9)
            {
                _reported = true;
                sink.DefectStarted(Make(null));
            }
            return;
        }

        if (!_open) return;
        if (double.IsNaN(_gapStart)) _gapStart = start;
        if (end - _gapStart > bridge) Close(_gapStart);
    }

    /// <summary>A discontinuity: an open interval ends at its last unit; what follows starts afresh.</summary>
    public void Break()
    {
        Close();
        _lastTime = double.NaN;
    }

    /// <summary>
    /// Media time reached <paramref name="now"/> (<see cref="IDetector.Tick"/>): an interval whose input has
    /// been missing for longer than <see cref="Continuity.MaxHole"/> ends at its last unit, as the hole
    /// would end it once the input came back.
    /// </summary>
    public void Tick(double now)
    {
        if (_open && now - _lastTime > Continuity.MaxHole) Close();
    }

    /// <summary>
    /// Ends an open interval at <paramref name="at"/> (default: the end of the last unit in it);
    /// <paramref name="closedBy"/> when the monitor closes it rather than the media (<see cref="ClosedBy"/>).
    /// </summary>
    public void Close(double? at = null, string? closedBy = null)
    {
        if (!_open) return;
        if (_reported)
        {
            var defect = Make(Math.Max(_start, at ?? _end));
            sink.DefectEnded(closedBy is null ? defect : defect.ClosedByMonitor(closedBy));
        }
        _open = false;
        _reported = false;
        _gapStart = double.NaN;
    }

    private Defect Make(double? end) =>
        new(kind, _start, end, _units > 0 ? Math.Clamp(_confidenceSum / _units, 0, 1) : 1, Details?.Invoke(), stream);
}
