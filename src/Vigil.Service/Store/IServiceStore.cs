namespace Vigil.Service.Store;

/// <summary>
/// What the service keeps: streams, events, snapshots, webhooks and the webhook outbox, and the operators'
/// acknowledgements of defects. One process
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

    // ---- alarms (the dashboard) ----

    /// <summary>One event by its id; null when there is none.</summary>
    StoredEvent? GetEvent(long seq);

    /// <summary>
    /// Records that <paramref name="by"/> acknowledged the defect of <paramref name="defect"/> (its <c>defect_start</c>
    /// or its <c>defect</c>): keyed by the defect's identity, so it holds for both events. The first acknowledgement
    /// stands: a second one returns the first.
    /// </summary>
    /// <param name="keyId">The id of the API key that made the call (never the key).</param>
    Acknowledgement Acknowledge(StoredEvent defect, string by, string? keyId);

    /// <summary>The acknowledgements of these events' defects, by event id (events not acknowledged are absent).</summary>
    IReadOnlyDictionary<long, Acknowledgement> Acknowledgements(IReadOnlyCollection<StoredEvent> events);

    /// <summary>
    /// Ended defects (<c>defect</c> events), newest first: of one stream or all, of some kinds or families, overlapping
    /// the wall-clock range [<paramref name="from"/>, <paramref name="to"/>] when given, with ids below
    /// <paramref name="beforeSeq"/> (the next page).
    /// </summary>
    IReadOnlyList<StoredEvent> QueryDefects(string? streamId, IReadOnlyList<string>? kinds, DateTimeOffset? from, DateTimeOffset? to,
        long? beforeSeq, int limit);
}

/// <summary>An operator's acknowledgement of a defect.</summary>
/// <param name="By">Who acknowledged it (the name the operator gave).</param>
/// <param name="KeyId">Which API key made the call (its id, e.g. <c>admin-0</c>; never the key).</param>
/// <param name="At">When.</param>
/// <param name="EventSeq">The event the acknowledgement was given on.</param>
public sealed record Acknowledgement(string By, string? KeyId, DateTimeOffset At, long EventSeq);

/// <summary>
/// A store that announces every committed event itself, in id order, including those other processes
/// committed (a fleet's shared store): live subscribers are fed from it rather than by the publisher.
/// </summary>
public interface IEventFeed
{
    /// <summary>Raised for every stored event in id order, on a thread of the feed's own.</summary>
    event Action<StoredEvent>? Appended;
}
