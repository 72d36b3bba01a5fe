using System.Threading.Channels;
using Vigil.Events;
using Vigil.Service.Store;

namespace Vigil.Service.Notify;

/// <summary>Where a pipeline announces its defects: the event hub, or in a fleet a wrapper around it.</summary>
public interface IEventPublisher
{
    /// <summary>Stores and announces one event of <paramref name="streamId"/>; times are stream time. Null when the event was held back.</summary>
    StoredEvent? Publish(string streamId, double epoch, Defect defect, string? snapshotId);
}

/// <summary>
/// The in-process event bus. <see cref="Publish"/> first commits the event (and its webhook outbox rows)
/// to the store, then fans it out to live subscribers (SSE), the webhook dispatcher, metrics and the
/// results writer; so no client is ever told about an event that a crash could lose. When the store is
/// an <see cref="IEventFeed"/> (a fleet's shared store), live subscribers get every node's events from
/// the feed, in id order, instead.
/// </summary>
public sealed class EventHub : IEventPublisher
{
    private readonly IServiceStore store;
    private readonly ServiceOptions options;
    private readonly Lock _gate = new();
    private readonly Lock _publishing = new();
    private readonly List<Subscription> _subscribers = [];
    private readonly bool _fedByStore;

    public EventHub(IServiceStore store, ServiceOptions options)
    {
        this.store = store;
        this.options = options;
        if (store is IEventFeed feed)
        {
            _fedByStore = true;
            feed.Appended += Offer;
        }
    }

    /// <summary>Raised after an event is stored, on the publishing thread; handlers must be quick.</summary>
    public event Action<StoredEvent>? Published;

    /// <summary>Stores and announces one event of <paramref name="streamId"/>; times are stream time.</summary>
    public StoredEvent? Publish(string streamId, double epoch, Defect defect, string? snapshotId)
    {
        var type = defect.End is null ? "defect_start" : "defect";
        var url = snapshotId is null ? null : $"{options.PublicUrl.TrimEnd('/')}/api/snapshots/{snapshotId}";
        // one publisher at a time, so every subscriber sees ids in increasing order and can resume after the last one
        lock (_publishing)
        {
            var stored = store.AppendEvent(streamId, type, defect.Kind, defect.Start, defect.End, snapshotId,
                seq => EventJson.Compose(defect, seq, streamId, epoch, url, options.Node), defect.Key.ToString());
            if (stored is null) return null;
            if (!_fedByStore) Offer(stored);
            Published?.Invoke(stored);
            return stored;
        }
    }

    private void Offer(StoredEvent stored)
    {
        Subscription[] subscribers;
        lock (_gate) subscribers = _subscribers.ToArray();
        foreach (var s in subscribers) s.Offer(stored);
    }

    /// <summary>Live events matching a filter, from now on. Dispose to unsubscribe.</summary>
    public Subscription Subscribe(string? streamId, IReadOnlyList<string>? kinds)
    {
        var s = new Subscription(this, streamId, kinds);
        lock (_gate) _subscribers.Add(s);
        return s;
    }

    public int SubscriberCount
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    private void Remove(Subscription s)
    {
        lock (_gate) _subscribers.Remove(s);
    }

    /// <summary>
    /// One live subscriber's queue. A subscriber that falls more than its capacity behind is cut off
    /// (its reader completes) rather than buffering without bound; it resumes from the store by id.
    /// </summary>
    public sealed class Subscription(EventHub hub, string? streamId, IReadOnlyList<string>? kinds) : IDisposable
    {
        private readonly Channel<StoredEvent> _queue = Channel.CreateBounded<StoredEvent>(
            new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public ChannelReader<StoredEvent> Reader => _queue.Reader;

        /// <summary>True when this subscriber was cut off for falling behind.</summary>
        public bool Overflowed { get; private set; }

        internal void Offer(StoredEvent e)
        {
            if (streamId is not null && e.StreamId != streamId) return;
            if (!KindFilter.Matches(kinds, e.Kind)) return;
            if (_queue.Writer.TryWrite(e)) return;
            Overflowed = true;
            _queue.Writer.TryComplete();
        }

        public void Dispose()
        {
            hub.Remove(this);
            _queue.Writer.TryComplete();
        }
    }
}
