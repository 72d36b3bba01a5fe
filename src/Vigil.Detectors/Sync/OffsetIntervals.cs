namespace Vigil.Detectors.Sync;

/// <summary>
/// Turns a series of offset measurements into <c>av.sync</c> defects. Consecutive measurements that
/// agree (within <see cref="AvSyncOptions.ChangeMs"/> of the interval's running mean) form one interval;
/// an interval whose offset is outside the tolerance is reported once its evidence spans
/// <see cref="AvSyncOptions.MinDuration"/> over at least two measurements. A measurement that disagrees
/// is held until the next one confirms it (one bad window must not split an interval); then the
/// offset changed: the old interval ends and a new one starts halfway between the last evidence for
/// the old offset and the first for the new. Without evidence an interval survives
/// <see cref="AvSyncOptions.MaxGap"/> seconds, then ends at its last evidence.
/// </summary>
public sealed class OffsetIntervals(AvSyncOptions options, IDefectSink sink, string kind = AvSyncDetector.KindName)
{
    private readonly double _change = options.ChangeMs / 1000;
    private Interval? _current;
    private Measurement? _pending;

    /// <summary>Extra numbers for the defect's details (timestamp-level evidence), read when an event is sent.</summary>
    public Func<IEnumerable<KeyValuePair<string, double>>>? ExtraDetails { get; set; }

    /// <summary>The interval in progress: its running offset, or null.</summary>
    public double? CurrentOffset => _current?.Offset;

    /// <summary>An offset measured from evidence spanning [<paramref name="from"/>, <paramref name="to"/>].</summary>
    public void Measure(double offset, double confidence, double from, double to, int events)
    {
        var m = new Measurement(offset, confidence, from, to, events);
        if (_current is null)
        {
            Start(m, m.From);
            return;
        }
        if (Agrees(_current, m))
        {
            _pending = null;
            Extend(_current, m);
            return;
        }
        if (_pending is { } pending && Math.Abs(pending.Offset - m.Offset) <= _change && OutOfTolerance(pending.Offset) == OutOfTolerance(m.Offset))
        {
            // confirmed: the offset changed
            var boundary = Math.Max(_current.Start, 0.5 * (_current.Last + pending.From));
            End(boundary);
            _pending = null;
            Start(pending, boundary);
            Extend(_current!, m);
            return;
        }
        _pending = m;
    }

    /// <summary>A step at <paramref name="time"/> with no evidence either way.</summary>
    public void NoEvidence(double time)
    {
        if (_current is not null && time - _current.Last > options.MaxGap) End(_current.Last);
        if (_pending is { } p && time - p.To > options.MaxGap) _pending = null;
    }

    /// <summary>
    /// End of input (or a discontinuity) at <paramref name="at"/>: closes the open interval;
    /// <paramref name="closedBy"/> when the monitor closes it rather than the media (<see cref="ClosedBy"/>).
    /// </summary>
    public void Close(double at, string? closedBy = null)
    {
        if (_current is null) return;
        End(at - _current.Last <= options.MaxGap ? Math.Max(at, _current.Last) : _current.Last, closedBy);
        _pending = null;
    }

    private bool OutOfTolerance(double offset) =>
        offset * 1000 > options.LateToleranceMs || -offset * 1000 > options.EarlyToleranceMs;

    private bool Agrees(Interval interval, Measurement m) =>
        Math.Abs(m.Offset - interval.Offset) <= _change && OutOfTolerance(m.Offset) == interval.OutOfTolerance;

    private void Start(Measurement m, double start)
    {
        _current = new Interval { Start = start, Last = start, OutOfTolerance = OutOfTolerance(m.Offset) };
        Extend(_current, m);
    }

    private void Extend(Interval interval, Measurement m)
    {
        interval.Last = Math.Max(interval.Last, m.To);
        interval.OffsetSum += m.Offset;
        interval.ConfidenceSum += m.Confidence;
        interval.Count++;
        interval.Events = Math.Max(interval.Events, m.Events);
        if (interval.OutOfTolerance && !interval.Reported && interval.Count >= 2
            && interval.Last - interval.Start >= options.MinDuration - 1e-9)
        {
            interval.Reported = true;
            sink.DefectStarted(Make(interval, null));
        }
    }

    private void End(double at, string? closedBy = null)
    {
        if (_current is { Reported: true } interval)
        {
            var defect = Make(interval, Math.Max(at, interval.Start));
            sink.DefectEnded(closedBy is null ? defect : defect.ClosedByMonitor(closedBy));
        }
        _current = null;
    }

    private Defect Make(Interval interval, double? end)
    {
        var details = new Dictionary<string, double>
        {
            ["offset_ms"] = Math.Round(interval.Offset * 1000),
            ["events"] = interval.Events,
        };
        if (ExtraDetails is { } extra)
            foreach (var (key, value) in extra()) details[key] = value;
        return new Defect(kind, interval.Start, end, Math.Clamp(interval.ConfidenceSum / interval.Count, 0, 1), details);
    }

    private readonly record struct Measurement(double Offset, double Confidence, double From, double To, int Events);

    private sealed class Interval
    {
        public double Start, Last, OffsetSum, ConfidenceSum;
        public int Count, Events;
        public bool OutOfTolerance, Reported;
        public double Offset => OffsetSum / Count;
    }
}
