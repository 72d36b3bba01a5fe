namespace Vigil.Service.Store;

/// <summary>
/// What the service keeps: streams, events, snapshots, webhooks and the webhook outbox. One process
/// uses <see cref="ServiceStore"/> (SQLite, embedded); a fleet uses PostgreSQL (Vigil.Cluster), shared
/// by every node. An event and its outbox rows are committed together before anyone is told about it.
/// A new operation goes here and into both stores (the PostgreSQL one: <c>Vigil.Cluster/Store/PostgresStore.cs</c>,
/// its tables in <c>Migrate</c>), with its test in <c>tests/Vigil.Tests/Service/StoreContract.cs</c>, which runs on both.
/// </summary>
public interface IServiceStore
{
    void InsertStream(StreamConfig s);

    /// <summary>Replaces a stream's definition; false when it does not exist.</summary>
    bool UpdateStream(StreamConfig s);

    bool DeleteStream(string id);

    /// <summary>Remembers the stream time reached, so events after a restart continue from it.</summary>
    void SavePosition(string id, double position);

    double GetPosition(string id);

    StreamConfig? GetStream(string id);

    IReadOnlyList<StreamConfig> ListStreams();

    /// <summary>
    /// Stores one event and queues it for every matching webhook, in one transaction; <paramref name="json"/> gets
    /// the event's id; <paramref name="key"/> is the defect's identity (<c>DefectKey</c>), pairing a <c>defect</c> with its
    /// <c>defect_start</c>. Null when a shared store already holds this event (the same defect reported again).
    /// </summary>
    StoredEvent? AppendEvent(string streamId, string type, string kind, double start, double? end, string? snapshotId, Func<long, string> json,
        string? key = null);

    /// <summary>Events in id order after <paramref name="afterSeq"/>, optionally of one stream and some kinds (or families).</summary>
    IReadOnlyList<StoredEvent> QueryEvents(string? streamId, IReadOnlyList<string>? kinds, long afterSeq, int limit);

    /// <summary><c>defect_start</c> events of a stream with no <c>defect</c> closing them.</summary>
    IReadOnlyList<StoredEvent> OpenDefects(string streamId);

    /// <summary>The highest event id stored.</summary>
    long LastSeq { get; }

    void PutSnapshot(string id, string streamId, byte[] jpeg);

    byte[]? GetSnapshot(string id);

    IReadOnlyList<WebhookConfig> Webhooks { get; }

    void InsertWebhook(WebhookConfig w);

    bool DeleteWebhook(string id);

    /// <summary>Deliveries due now: for each (webhook, stream) only the oldest undelivered event, taken by this process alone until it reports back.</summary>
    IReadOnlyList<OutboxItem> DueDeliveries(int limit);

    void Delivered(long outboxId);

    void DeliveryFailed(long outboxId, int attempts, double retryAfterSeconds, string error);

    long PendingDeliveries();

    /// <summary>Per webhook with anything pending: how many deliveries, and when (Unix seconds) the oldest one's event was stored.</summary>
    IReadOnlyList<(string WebhookId, long Pending, double OldestStored)> OutboxBacklog();

    /// <summary>A receiver answered again: its other pending deliveries are due now, not at their own backoff.</summary>
    void RetryNow(string webhookId);
}

/// <summary>
/// A store that announces every committed event itself, in id order, including those other processes
/// committed (a fleet's shared store): live subscribers are fed from it rather than by the publisher.
/// </summary>
public interface IEventFeed
{
    /// <summary>Raised for every stored event in id order, on a thread of the feed's own.</summary>
    event Action<StoredEvent>? Appended;
}
