using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Cluster.Entities;
using Vigil.Events;
using Vigil.Service.Notify;
using Vigil.Service.Store;

namespace Vigil.Tests.Cluster;

public sealed class FailoverContinuityTests
{
    private const double Epoch = 1_700_000_000;

    [Fact]
    public void Publish_SameDefectConfirmedAfterTakeover_ContinuesUnderFirstStart()
    {
        var hub = new RecordingPublisher();
        using var continuity = Continuity(hub, Open(new Defect("video.black", 100, null, 1), "snap-1"), takeoverAt: 104, lastPosition: 103);

        Assert.Null(continuity.Publish("s", Epoch, new Defect("video.black", 105, null, 1), "snap-2"));
        continuity.Publish("s", Epoch, new Defect("video.black", 105, 109, 1), "snap-2");
        continuity.CloseUnconfirmed();

        var (defect, snapshot) = Assert.Single(hub.Published);
        Assert.Equal((100.0, 109.0), (defect.Start, defect.End!.Value)); // one defect, its first start, the new end
        Assert.Equal("snap-1", snapshot);
        Assert.Null(defect.ClosedBy); // closed by the media, on the new node
        Assert.Equal(0, continuity.Pending);
    }

    [Fact]
    public void CloseUnconfirmed_DefectNotSeenAgain_ClosedAtLastPosition()
    {
        var hub = new RecordingPublisher();
        using var continuity = Continuity(hub, Open(new Defect("audio.silence", 50, null, 1), null), takeoverAt: 60, lastPosition: 58);

        continuity.CloseUnconfirmed();

        var (defect, _) = Assert.Single(hub.Published);
        Assert.Equal((50.0, 58.0), (defect.Start, defect.End!.Value));
        Assert.Equal(ClosedBy.Failover, defect.ClosedBy);
    }

    [Fact]
    public void Publish_DefectStartingLongAfterTakeover_IsANewDefect()
    {
        var hub = new RecordingPublisher();
        using var continuity = Continuity(hub, Open(new Defect("video.black", 100, null, 1), null), takeoverAt: 104, lastPosition: 103);

        continuity.Publish("s", Epoch, new Defect("video.black", 104 + FailoverContinuity.MatchWindowSeconds + 5, null, 1), null);
        continuity.CloseUnconfirmed();

        Assert.Equal(2, hub.Published.Count);
        Assert.Null(hub.Published[0].Defect.End); // the new one starts
        Assert.Equal(100, hub.Published[1].Defect.Start); // the inherited one closes
    }

    [Fact]
    public void Publish_OtherChannel_IsNotTheInheritedDefect()
    {
        var hub = new RecordingPublisher();
        var left = new Dictionary<string, double> { ["channel"] = 0 };
        var right = new Dictionary<string, double> { ["channel"] = 1 };
        using var continuity = Continuity(hub, Open(new Defect("audio.silence", 10, null, 1, left), null), takeoverAt: 12, lastPosition: 11);

        Assert.NotNull(continuity.Publish("s", Epoch, new Defect("audio.silence", 13, null, 1, right), null));
        Assert.Equal(1, continuity.Pending);
    }

    [Fact]
    public void HoldCloses_HandingOver_ClosesStayUnreported()
    {
        var hub = new RecordingPublisher();
        using var continuity = Continuity(hub, [], takeoverAt: 0, lastPosition: 0);
        continuity.Publish("s", Epoch, new Defect("video.black", 1, null, 1), null);

        continuity.HoldCloses = true;
        continuity.Publish("s", Epoch, new Defect("video.black", 1, 4, 1), null);

        Assert.Single(hub.Published); // the start only: the next node continues the defect
    }

    private static FailoverContinuity Continuity(IEventPublisher hub, IReadOnlyList<StoredEvent> open, double takeoverAt, double lastPosition) =>
        new(hub, open, takeoverAt, lastPosition, graceSeconds: 3600, NullLogger.Instance);

    private static IReadOnlyList<StoredEvent> Open(Defect defect, string? snapshot) =>
        [new StoredEvent(7, "s", "defect_start", defect.Kind, defect.Start, null, snapshot, EventJson.Compose(defect, 7, "s", Epoch, null, "old-node"))];

    private sealed class RecordingPublisher : IEventPublisher
    {
        public List<(Defect Defect, string? Snapshot)> Published { get; } = [];

        public StoredEvent? Publish(string streamId, double epoch, Defect defect, string? snapshotId)
        {
            Assert.Equal(Epoch, epoch, 3);
            Published.Add((defect, snapshotId));
            return new StoredEvent(Published.Count, streamId, defect.End is null ? "defect_start" : "defect", defect.Kind, defect.Start, defect.End, snapshotId, "{}");
        }
    }
}
