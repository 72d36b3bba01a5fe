using Microsoft.Extensions.Logging;
using Vigil.Events;
using Vigil.Service.Notify;
using Vigil.Service.Store;

namespace Vigil.Cluster.Entities;

/// <summary>
/// Sits between a (stream, group) pipeline and the event hub when the pipeline takes over from another
/// node (failover or hand-over). The defects the previous node left open are inherited: when the new
/// detectors confirm the same defect (same identity but start, beginning by <see cref="MatchWindowSeconds"/>
/// after the takeover) its <c>defect_start</c> is held back and its end closes the inherited one, so
/// the defect continues under its first start; one that is not confirmed within the grace time is
/// closed with <c>details.closed_by: "failover"</c> at the position the previous node had reached.
/// Either way each defect is reported once (the shared store refuses a second report as well).
/// While handing over (<see cref="HoldCloses"/>) closes are held back: the next node continues them.
/// </summary>
public sealed class FailoverContinuity : IEventPublisher, IDisposable
{
    /// <summary>A defect continues the inherited one when the new pipeline reports it this soon after the takeover (stream time).</summary>
    public const double MatchWindowSeconds = 8;

    private readonly IEventPublisher _inner;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly List<Inherited> _inherited;
    private readonly Dictionary<string, Inherited> _continued = new(StringComparer.Ordinal);
    private readonly double _takeoverAt;
    private readonly Timer? _grace;
    private volatile bool _holdCloses;

    /// <param name="open">The stream's defects left open (<c>defect_start</c> lines) that belong to this group.</param>
    /// <param name="takeoverAt">Stream time now: the new pipeline starts from here.</param>
    /// <param name="lastPosition">The stream time the previous node had reached: where an unconfirmed defect ends.</param>
    public FailoverContinuity(IEventPublisher inner, IReadOnlyList<StoredEvent> open, double takeoverAt, double lastPosition,
        double graceSeconds, ILogger log)
    {
        _inner = inner;
        _log = log;
        _takeoverAt = takeoverAt;
        _inherited = open.Select(e => new Inherited(e, EventJson.ParseDefect(e.Json), Math.Max(lastPosition, 0))).ToList();
        if (_inherited.Count > 0)
            _grace = new Timer(_ => CloseUnconfirmed(), null, TimeSpan.FromSeconds(graceSeconds), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Inherited defects not yet continued or closed.</summary>
    public int Pending
    {
        get { lock (_gate) return _inherited.Count(i => i.State == InheritedState.Open); }
    }

    /// <summary>Set before stopping for a hand-over: closes from the flush stay unreported, the next node continues them.</summary>
    public bool HoldCloses
    {
        get => _holdCloses;
        set => _holdCloses = value;
    }

    public StoredEvent? Publish(string streamId, double epoch, Defect defect, string? snapshotId)
    {
        if (_holdCloses && defect.End is not null) return null;
        Inherited? continued;
        lock (_gate)
        {
            if (defect.End is null)
            {
                var match = _inherited.FirstOrDefault(i => i.State == InheritedState.Open && SameDefect(i.Defect, defect)
                                                           && defect.Start <= _takeoverAt + MatchWindowSeconds);
                if (match is not null)
                {
                    match.State = InheritedState.Continued;
                    _continued[Key(defect)] = match;
                    _log.LogInformation("Stream {StreamId}: {Kind} from {Start:0.000} continues after the takeover", streamId, defect.Kind, match.Defect.Start);
                    return null; // its defect_start was reported by the previous node
                }
                continued = null;
            }
            else _continued.Remove(Key(defect), out continued);
        }
        if (continued is not null) // the end of a continued defect closes the inherited one, under its first start
            return _inner.Publish(streamId, epoch, defect with { Start = continued.Defect.Start, End = Math.Max(continued.Defect.Start, defect.End!.Value) },
                continued.Event.SnapshotId);
        return _inner.Publish(streamId, epoch, defect, snapshotId);
    }

    /// <summary>Closes the inherited defects the new pipeline did not confirm in time.</summary>
    public void CloseUnconfirmed()
    {
        List<Inherited> expired;
        lock (_gate)
        {
            expired = _inherited.Where(i => i.State == InheritedState.Open).ToList();
            foreach (var i in expired) i.State = InheritedState.Closed;
        }
        foreach (var i in expired)
        {
            if (_holdCloses) continue; // handing over again: the next node inherits it
            var end = Math.Max(i.Defect.Start, i.EndAt);
            _inner.Publish(i.Event.StreamId, EpochOf(i), FleetDefects.ClosedByFailover(i.Defect with { End = end }), i.Event.SnapshotId);
            _log.LogInformation("Stream {StreamId}: {Kind} left open by the previous node closed (failover)", i.Event.StreamId, i.Defect.Kind);
        }
    }

    /// <summary>The stream's epoch, recovered from the event's wall-clock time and stream time.</summary>
    private static double EpochOf(Inherited i)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(i.Event.Json);
        var time = DateTimeOffset.Parse(doc.RootElement.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        return time.ToUnixTimeMilliseconds() / 1000.0 - i.Defect.Start;
    }

    private static bool SameDefect(Defect a, Defect b) => FleetDefects.SameIdentityButStart(a, b);

    private static string Key(Defect d) => FleetDefects.Key(d);

    public void Dispose() => _grace?.Dispose();

    private enum InheritedState { Open, Continued, Closed }

    private sealed class Inherited(StoredEvent e, Defect defect, double endAt)
    {
        public StoredEvent Event { get; } = e;
        public Defect Defect { get; } = defect;
        public double EndAt { get; } = endAt;
        public InheritedState State { get; set; }
    }
}
