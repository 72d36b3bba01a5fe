using Vigil.Events;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Tests.Service;

/// <summary>
/// What every <see cref="IServiceStore"/> must do, run against each real store: SQLite (<see cref="SqliteStoreContractTests"/>)
/// and PostgreSQL (<c>Cluster/PostgresStoreContractTests</c>). A new store operation gets its test here, so it is proved
/// on both stores at once.
/// </summary>
public abstract class StoreContract
{
    /// <summary>A fresh, empty store sealing webhook secrets with <paramref name="secrets"/>.</summary>
    protected abstract IServiceStore NewStore(SecretBox secrets);

    /// <summary>The webhook's secret column as stored, read past the store (what a copy of the database holds).</summary>
    protected abstract string? StoredSecret(IServiceStore store, string webhookId);

    private static SecretBox Key() => new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Streams_InsertUpdateDelete_ReadBackAsStored()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var a = new StreamConfig("a", "Cam A", "udp://239.0.0.1:5000", ["video.black"], new Dictionary<string, string> { ["black.min_duration"] = "2" },
            ["0.1,0.1,0.2,0.2"], false, at, at, 1_700_000_000.5);
        var b = new StreamConfig("b", "Cam B", "srt://10.0.0.5:9000", null, new Dictionary<string, string>(), [], true, at.AddSeconds(1), at.AddSeconds(1), 2);
        store.InsertStream(b with { CreatedAt = at.AddSeconds(1) });
        store.InsertStream(a);

        Assert.Equal(["a", "b"], store.ListStreams().Select(s => s.Id)); // in the order they were created
        var read = store.GetStream("a")!;
        Assert.Equal((a.Name, a.Url, a.Paused, a.Epoch, a.CreatedAt), (read.Name, read.Url, read.Paused, read.Epoch, read.CreatedAt));
        Assert.Equal(a.Detectors, read.Detectors);
        Assert.Equal(a.Settings, read.Settings);
        Assert.Equal(a.Masks, read.Masks);
        Assert.Null(store.GetStream("b")!.Detectors);

        Assert.True(store.UpdateStream(a with { Name = "Cam A2", Paused = true, UpdatedAt = at.AddMinutes(1) }));
        Assert.Equal(("Cam A2", true), (store.GetStream("a")!.Name, store.GetStream("a")!.Paused));
        Assert.False(store.UpdateStream(a with { Id = "missing" }));
        Assert.True(store.DeleteStream("a"));
        Assert.False(store.DeleteStream("a"));
        Assert.Null(store.GetStream("a"));
    }

    [Fact]
    public void Streams_ProgrammeChoice_ReadBackAsStored()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var plain = new StreamConfig("plain", "One", "udp://239.0.0.1:5000", null, new Dictionary<string, string>(), [], false, at, at, 1);
        store.InsertStream(plain);
        store.InsertStream(plain with { Id = "named", Program = 3401 });
        store.InsertStream(plain with { Id = "every", Programs = [] });
        store.InsertStream(plain with { Id = "some", Programs = [3410, 3402] });

        Assert.Equal(((int?)null, (IReadOnlyList<int>?)null), (store.GetStream("plain")!.Program, store.GetStream("plain")!.Programs));
        Assert.Equal(3401, store.GetStream("named")!.Program);
        Assert.Null(store.GetStream("named")!.Programs);
        Assert.Equal([], store.GetStream("every")!.Programs!); // every programme: empty, not null
        Assert.Equal([3410, 3402], store.GetStream("some")!.Programs!); // in the order given
        Assert.Equal([3410, 3402], store.ListStreams().Single(s => s.Id == "some").Programs!);

        Assert.True(store.UpdateStream(store.GetStream("named")! with { Program = null, Programs = [3403] }));
        Assert.Equal(((int?)null, 3403), (store.GetStream("named")!.Program, store.GetStream("named")!.Programs!.Single()));
        Assert.True(store.UpdateStream(store.GetStream("some")! with { Programs = null }));
        Assert.Null(store.GetStream("some")!.Programs);
    }

    [Fact]
    public void Position_Saved_OnlyGrows()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        var now = DateTimeOffset.UtcNow;
        store.InsertStream(new StreamConfig("s", "s", "udp://239.0.0.1:1", null, new Dictionary<string, string>(), [], false, now, now, 1));
        store.SavePosition("s", 40);
        store.SavePosition("s", 30);
        Assert.Equal(40, store.GetPosition("s"));
        Assert.Equal(0, store.GetPosition("other"));
    }

    [Fact]
    public void Events_QueriedByStreamKindFamilyAndId_InIdOrder()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        var black = Publish(store, "s", new Defect("video.black", 1, null, 1))!;
        var silence = Publish(store, "t", new Defect("audio.silence", 2, null, 1))!;
        var blackEnd = Publish(store, "s", new Defect("video.black", 1, 3, 1))!;
        var freeze = Publish(store, "s", new Defect("video.freeze", 4, null, 1))!;

        Assert.True(black.Seq < silence.Seq && silence.Seq < blackEnd.Seq && blackEnd.Seq < freeze.Seq);
        Assert.Equal(freeze.Seq, store.LastSeq);
        Assert.Contains($"\"id\":{black.Seq}", black.Json); // the line carries the id it was stored under
        Assert.Equal([black.Seq, blackEnd.Seq, freeze.Seq], store.QueryEvents("s", null, 0, 100).Select(e => e.Seq));
        Assert.Equal([black.Seq, blackEnd.Seq, freeze.Seq], store.QueryEvents(null, ["VIDEO"], 0, 100).Select(e => e.Seq)); // a family, any case
        Assert.Equal([silence.Seq], store.QueryEvents(null, ["audio.silence"], 0, 100).Select(e => e.Seq));
        Assert.Empty(store.QueryEvents(null, ["video.bl"], 0, 100)); // neither a kind nor a family
        Assert.Equal([blackEnd.Seq], store.QueryEvents(null, null, silence.Seq, 1).Select(e => e.Seq)); // after an id, limited
        var stored = store.QueryEvents("t", null, 0, 1).Single();
        Assert.Equal(("t", "defect_start", "audio.silence", 2.0, (double?)null), (stored.StreamId, stored.Type, stored.Kind, stored.Start, stored.End));
    }

    [Fact]
    public void OpenDefects_PairedByIdentity_TwoChannelsFromOneInstantAreTwoDefects()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        var left = new Defect("audio.silence", 5, null, 1, new Dictionary<string, double> { ["channel"] = 0 });
        var right = left with { Details = new Dictionary<string, double> { ["channel"] = 1 } };
        Publish(store, "s", left);
        Publish(store, "s", right);
        Publish(store, "s", new Defect("video.black", 5, null, 1));
        Publish(store, "s", left with { End = 9 });
        Publish(store, "other", new Defect("video.freeze", 1, null, 1));

        var open = store.OpenDefects("s");
        Assert.Equal(2, open.Count);
        Assert.Contains(open, e => e.Kind == "video.black");
        Assert.Contains(open, e => e.Kind == "audio.silence" && e.Json.Contains("\"channel\":1", StringComparison.Ordinal));
    }

    [Fact]
    public void Snapshots_PutAndReplaced_ReadBack()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        store.PutSnapshot("snap-1", "s", [1, 2, 3]);
        Assert.Equal([1, 2, 3], store.GetSnapshot("snap-1"));
        store.PutSnapshot("snap-1", "s", [4, 5]);
        Assert.Equal([4, 5], store.GetSnapshot("snap-1"));
        Assert.Null(store.GetSnapshot("snap-2"));
    }

    [Fact]
    public void WebhookSecret_StoredSealed_DeliveredInClearForTheSignature()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        const string secret = "hook-secret-4711";
        store.InsertWebhook(new WebhookConfig("w", "http://127.0.0.1:9/hook", secret, null, null, DateTimeOffset.UtcNow));

        var stored = StoredSecret(store, "w");
        Assert.NotNull(stored);
        Assert.True(SecretBox.IsSealed(stored), "the secret column is not sealed");
        Assert.DoesNotContain(secret, stored);
        Assert.Equal(secret, store.Webhooks.Single().Secret);
        Publish(store, "s", new Defect("video.black", 1, null, 1));
        Assert.Equal(secret, store.DueDeliveries(10).Single().Secret); // what WebhookDispatcher signs with
    }

    [Fact]
    public void Outbox_OneHeadPerWebhookAndStream_DeliveredFailedRetriedDeleted()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        store.InsertWebhook(new WebhookConfig("all", "http://127.0.0.1:9/a", null, null, null, DateTimeOffset.UtcNow));
        store.InsertWebhook(new WebhookConfig("audio", "http://127.0.0.1:9/b", null, ["s"], ["audio"], DateTimeOffset.UtcNow.AddSeconds(1)));
        var first = Publish(store, "s", new Defect("video.black", 1, null, 1))!;
        var second = Publish(store, "s", new Defect("audio.silence", 2, null, 1))!;
        Publish(store, "t", new Defect("audio.silence", 2, null, 1));

        Assert.Equal(4, store.PendingDeliveries()); // 3 for "all", 1 for "audio" (stream s, audio only)
        var due = store.DueDeliveries(10);
        Assert.Equal([("all", "s", first.Seq), ("all", "t", first.Seq + 2), ("audio", "s", second.Seq)],
            due.Select(d => (d.WebhookId, d.StreamId, d.EventSeq)).Order());
        Assert.Equal(first.Json, due.Single(d => d.WebhookId == "all" && d.StreamId == "s").Json);
        Assert.Equal([("all", 3L), ("audio", 1L)], store.OutboxBacklog().Select(b => (b.WebhookId, b.Pending)));

        var head = due.Single(d => d.WebhookId == "all" && d.StreamId == "s");
        store.Delivered(head.Id);
        var failed = due.Single(d => d.WebhookId == "all" && d.StreamId == "t");
        store.DeliveryFailed(failed.Id, 1, 3600, "HTTP 500");
        var audio = due.Single(d => d.WebhookId == "audio");
        store.DeliveryFailed(audio.Id, 1, 3600, "HTTP 500");
        var next = store.DueDeliveries(10);
        Assert.Equal([("all", "s", second.Seq)], next.Select(d => (d.WebhookId, d.StreamId, d.EventSeq))); // the failed heads wait for their backoff
        store.Delivered(next.Single().Id);

        store.RetryNow("all"); // the receiver answered again: its waiting heads are due now, the other receiver's are not
        var retried = store.DueDeliveries(10).Single();
        Assert.Equal((failed.Id, "all"), (retried.Id, retried.WebhookId));
        Assert.True(store.DeleteWebhook("all"));
        Assert.False(store.DeleteWebhook("all"));
        Assert.Equal(1, store.PendingDeliveries()); // the deleted receiver's deliveries went with it
        Assert.Equal(["audio"], store.Webhooks.Select(w => w.Id));
    }

    [Fact]
    public void Acknowledgement_FollowsTheDefectsIdentity_AndTheFirstOneStands()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        Defect Dead(int channel) => new("audio.silence", 12.5, null, 1.0, new Dictionary<string, double> { ["channel"] = channel });
        var left = Publish(store, "cam-1", Dead(0))!;
        var right = Publish(store, "cam-1", Dead(1))!;
        Assert.Equal(left.Json, store.GetEvent(left.Seq)!.Json);
        Assert.Null(store.GetEvent(right.Seq + 100));

        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        var ack = store.Acknowledge(left, "Ada", "admin-0");
        Assert.Equal(("Ada", "admin-0", left.Seq), (ack.By, ack.KeyId, ack.EventSeq));
        Assert.InRange(ack.At, before, DateTimeOffset.UtcNow.AddSeconds(5));
        var again = store.Acknowledge(left, "Grace", "admin-1");
        Assert.Equal(("Ada", "admin-0", ack.At), (again.By, again.KeyId, again.At)); // the first stands
        var leftEnd = Publish(store, "cam-1", Dead(0) with { End = 15 })!;
        var elsewhere = Publish(store, "cam-2", Dead(0))!; // the same identity on another stream is another defect
        var acks = store.Acknowledgements([left, right, leftEnd, elsewhere]);
        Assert.Equal("Ada", acks[left.Seq].By);
        Assert.Equal(("Ada", left.Seq), (acks[leftEnd.Seq].By, acks[leftEnd.Seq].EventSeq)); // the defect's end carries its start's
        Assert.False(acks.ContainsKey(right.Seq));  // the other channel is another defect
        Assert.False(acks.ContainsKey(elsewhere.Seq));
        Assert.Empty(store.Acknowledgements([]));
    }

    [Fact]
    public void QueryDefects_EndedOnly_ByTimeRangeStreamKindNewestFirstInPages()
    {
        using var lease = Lease(NewStore(Key()));
        var store = lease.Store;
        Publish(store, "a", new Defect("video.black", 10, 20, 1));
        Publish(store, "a", new Defect("audio.silence", 30, 40, 1));
        Publish(store, "b", new Defect("video.black", 100, null, 1)); // open: not history
        Publish(store, "b", new Defect("video.black", 100, 110, 1));
        DateTimeOffset At(double s) => DateTimeOffset.FromUnixTimeMilliseconds((long)((Epoch + s) * 1000));
        string[] Kinds(IEnumerable<StoredEvent> e) => e.Select(x => $"{x.StreamId}:{x.Kind}").ToArray();

        Assert.Equal(["b:video.black", "a:audio.silence", "a:video.black"], Kinds(store.QueryDefects(null, null, null, null, null, 10)));
        Assert.Equal(["a:audio.silence", "a:video.black"], Kinds(store.QueryDefects(null, null, At(15), At(35), null, 10))); // overlapping
        Assert.Equal(["a:video.black"], Kinds(store.QueryDefects(null, null, At(0), At(25), null, 10)));
        Assert.Equal(["a:video.black"], Kinds(store.QueryDefects(null, null, At(20), At(29), null, 10))); // the end's instant overlaps
        Assert.Empty(store.QueryDefects(null, null, At(0), At(5), null, 10));
        Assert.Equal(["b:video.black", "a:video.black"], Kinds(store.QueryDefects(null, ["VIDEO"], null, null, null, 10))); // a family, any case
        Assert.Equal(["a:audio.silence", "a:video.black"], Kinds(store.QueryDefects("a", null, null, null, null, 10)));
        var first = store.QueryDefects(null, null, null, null, null, 1).Single();
        Assert.Equal(["a:audio.silence", "a:video.black"], Kinds(store.QueryDefects(null, null, null, null, first.Seq, 10)));
    }

    private const double Epoch = 1_700_000_000;

    private static StoredEvent? Publish(IServiceStore store, string stream, Defect defect) =>
        store.AppendEvent(stream, defect.End is null ? "defect_start" : "defect", defect.Kind, defect.Start, defect.End, null,
            seq => EventJson.Compose(defect, seq, stream, Epoch, null, "test"), defect.Key.ToString());

    private static StoreLease Lease(IServiceStore store) => new(store);

    /// <summary>Disposes the store after the test (stores are IDisposable, the interface is not).</summary>
    private sealed class StoreLease(IServiceStore store) : IDisposable
    {
        public IServiceStore Store { get; } = store;

        public void Dispose() => (Store as IDisposable)?.Dispose();
    }
}

/// <summary>The embedded store (SQLite) against the store contract.</summary>
public sealed class SqliteStoreContractTests : StoreContract, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vigil-store-" + Guid.NewGuid().ToString("N")[..8]);

    protected override IServiceStore NewStore(SecretBox secrets) => new ServiceStore(Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8], "vigil.db"), secrets);

    protected override string? StoredSecret(IServiceStore store, string webhookId)
    {
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Directory.EnumerateFiles(_dir, "vigil.db", SearchOption.AllDirectories).Single()}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT secret FROM webhooks WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", webhookId);
        return cmd.ExecuteScalar() as string;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
