using Vigil.Cluster.Store;
using Vigil.Events;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;
using Vigil.Tests.Cluster.Support;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Cluster;

/// <summary>The fleet's shared store on a real PostgreSQL: two store instances stand for two nodes.</summary>
[Collection("postgres")]
public sealed class PostgresStoreTests(PostgresFixture pg)
{
    /// <summary>The fleet's one sealing key (every node has the same SecretKeyFile).</summary>
    private readonly byte[] _keyBytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    private SecretBox Key => new(_keyBytes);

    [Fact]
    public async Task AppendEvent_TwoNodesAtOnce_IdsCommitInOrderAndTheFeedSeesEveryOneOnce()
    {
        var db = pg.NewDatabase("order");
        using var a = new PostgresStore(db, "a", 5, secrets: Key);
        using var b = new PostgresStore(db, "b", 5, secrets: Key);
        var seen = new List<long>();
        a.Appended += e => { lock (seen) seen.Add(e.Seq); };
        a.Feed.Start();

        await Task.WhenAll(Append(a, "s1", 60), Append(b, "s2", 60));

        await Net.WaitUntilAsync(() => { lock (seen) return seen.Count >= 120; }, 20, "the feed to announce 120 events");
        lock (seen) Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), seen);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), a.QueryEvents(null, null, 0, 1000).Select(e => e.Seq));
    }

    [Fact]
    public void AppendEvent_SameDefectFromAnotherNode_Refused()
    {
        var db = pg.NewDatabase("once");
        using var a = new PostgresStore(db, "a", 5, secrets: Key);
        using var b = new PostgresStore(db, "b", 5, secrets: Key);
        var defect = new Defect("video.black", 12.5, null, 1);

        Assert.NotNull(Publish(a, "s", defect, "a"));
        Assert.Null(Publish(b, "s", defect, "b"));
        Assert.NotNull(Publish(b, "s", defect with { Details = new Dictionary<string, double> { ["channel"] = 1 } }, "b")); // another identity

        Assert.Equal(2, a.QueryEvents("s", null, 0, 100).Count);
        Assert.Equal(2, a.OpenDefects("s").Count);
        Publish(b, "s", defect with { End = 20 }, "b");
        Assert.Single(a.OpenDefects("s"));
    }

    [Fact]
    public void DueDeliveries_TwoNodes_EachHeadToOneNodeAndTakenOverWhenItsLeaseEnds()
    {
        var db = pg.NewDatabase("outbox");
        using var a = new PostgresStore(db, "a", leaseSeconds: 1, secrets: Key);
        using var b = new PostgresStore(db, "b", leaseSeconds: 1, secrets: Key);
        a.InsertWebhook(new WebhookConfig("w", "http://127.0.0.1:9/hook", null, null, null, DateTimeOffset.UtcNow));
        for (var i = 0; i < 3; i++) Publish(a, "s", new Defect("video.black", i, null, 1), "a");
        Publish(a, "t", new Defect("video.black", 0, null, 1), "a");

        var first = a.DueDeliveries(10);
        var second = b.DueDeliveries(10);

        Assert.Equal(["s", "t"], first.Select(d => d.StreamId).Order()); // the head of each (webhook, stream)
        Assert.Empty(second); // leased by a
        Thread.Sleep(1300); // a "died" holding its leases
        var takenOver = b.DueDeliveries(10);
        Assert.Equal(first.Select(d => d.Id).Order(), takenOver.Select(d => d.Id).Order());
        b.Delivered(takenOver.Single(d => d.StreamId == "s").Id);
        b.DeliveryFailed(takenOver.Single(d => d.StreamId == "t").Id, 1, 0, "HTTP 500");
        var next = a.DueDeliveries(10);
        Assert.Equal(2, next.Count); // s moves on to its second event; t's head is free again
        Assert.Equal(first.Single(d => d.StreamId == "s").EventSeq + 1, next.Single(d => d.StreamId == "s").EventSeq);
    }

    [Fact]
    public void SavePosition_Buffered_WrittenByFlushAndOnlyGrows()
    {
        var db = pg.NewDatabase("position");
        using var a = new PostgresStore(db, "a", 5, secrets: Key);
        using var b = new PostgresStore(db, "b", 5, secrets: Key);
        var now = DateTimeOffset.UtcNow;
        a.InsertStream(new StreamConfig("s", "s", "udp://127.0.0.1:1", null, new Dictionary<string, string>(), [], false, now, now, 1));

        a.SavePosition("s", 40);
        a.SavePosition("s", 30);
        Assert.Equal(0, b.GetPosition("s"));
        a.FlushPositions();
        b.SavePosition("s", 20);
        b.FlushPositions();

        Assert.Equal(40, a.GetPosition("s"));
        Assert.Equal(40, b.GetPosition("s"));
    }

    [Fact]
    public void Open_NodeWithAnotherSealingKey_RefusesToStart()
    {
        var db = pg.NewDatabase("key");
        using var first = new PostgresStore(db, "a", 5, secrets: Key);
        using var same = new PostgresStore(db, "b", 5, secrets: new SecretBox(_keyBytes.ToArray())); // a copy of the key file

        var error = Assert.Throws<InvalidOperationException>(() =>
            new PostgresStore(db, "c", 5, secrets: new SecretBox(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))));
        Assert.Contains("SecretKeyFile", error.Message);
    }

    private static Task Append(PostgresStore store, string stream, int count) => Task.Run(() =>
    {
        for (var i = 0; i < count; i++) Publish(store, stream, new Defect("video.freeze", i, i + 0.5, 1), stream);
    });

    private static StoredEvent? Publish(PostgresStore store, string stream, Defect defect, string node) =>
        store.AppendEvent(stream, defect.End is null ? "defect_start" : "defect", defect.Kind, defect.Start, defect.End, null,
            seq => EventJson.Compose(defect, seq, stream, 1_700_000_000, null, node));
}
