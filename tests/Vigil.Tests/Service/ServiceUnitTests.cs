using System.Text.Json.Nodes;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Service;
using Vigil.Service.Api;
using Vigil.Service.Security;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Store;

namespace Vigil.Tests.Service;

/// <summary>The service's pure parts: stream time across reconnects, the event lines, the input allow-list, stream definitions.</summary>
public sealed class ServiceUnitTests
{
    // an epoch in the future keeps wall-clock time out of the mapping: only the stream time reached counts
    private static readonly double FutureEpoch = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1e6;

    [Fact]
    public void StreamTimeline_Reconnect_ContinuesFromTimeReached()
    {
        var timeline = new StreamTimeline(FutureEpoch, position: 100);
        timeline.BeginConnection();
        Assert.Equal(100, timeline.Map(0), 6);
        for (var i = 0; i < 250; i++) timeline.Advance((i + 1) * 0.04);
        Assert.Equal(110, timeline.Reached, 6);

        timeline.BeginConnection(); // media time starts over at 0
        Assert.Equal(110, timeline.Map(0), 6);
        timeline.Advance(0.04);
        Assert.Equal(110.04, timeline.Reached, 6);
    }

    [Fact]
    public void StreamTimeline_WithinConnection_OneOffsetAndNoJumpDetection()
    {
        // the pipeline's timeline already made media time continuous: the stream clock only adds the offset
        var timeline = new StreamTimeline(FutureEpoch, position: 40);
        timeline.BeginConnection();
        for (var i = 0; i < 250; i++) timeline.Advance(1000 + (i + 1) * 0.04); // a source clock far from 0
        Assert.Equal(1050, timeline.Reached, 6);
        Assert.Equal(45, timeline.Map(5), 6);
        timeline.Advance(5.04); // an item behind what was reached (audio muxed behind video)
        Assert.Equal(1050, timeline.Reached, 6);
        Assert.Equal(45, timeline.Map(5), 6);
    }

    [Fact]
    public void StreamTimeline_BurstAheadOfWallClock_MovesBackToArrivalButNeverForward()
    {
        // an hour of stream time has passed; the connection then delivers 30 s of media at once (a backlog)
        var epoch = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - 3600;
        var timeline = new StreamTimeline(epoch, position: 10);
        timeline.BeginConnection();
        timeline.Arrive(0);
        var first = timeline.Map(0);
        timeline.Arrive(30);
        Assert.InRange(timeline.Map(30), first, timeline.LastArrival); // not later than it arrived...
        Assert.True(timeline.Map(30) - first < 30, "...so the burst is squeezed onto the wall clock");
        var settled = timeline.Map(30);
        timeline.Arrive(29.5); // audio interleaved half a second behind the picture: no step forward
        Assert.Equal(settled, timeline.Map(30), 9);
    }

    [Fact]
    public void StreamTimeline_BurstAfterReconnect_NeverMapsBeforeWhatWasReached()
    {
        // stream time reached is far ahead of the wall clock (the epoch lies in the future): nothing may move back past it
        var timeline = new StreamTimeline(FutureEpoch, position: 200);
        timeline.BeginConnection();
        timeline.Arrive(0);
        timeline.Arrive(5);
        Assert.Equal(200, timeline.Map(0), 6);
    }

    [Fact]
    public void StreamTimeline_EpochInThePast_MapsConnectionStartToWallClock()
    {
        var epoch = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - 3600;
        var timeline = new StreamTimeline(epoch, position: 10);
        timeline.BeginConnection();
        Assert.InRange(timeline.Map(0), 3600, 3600 + 600); // an hour since the epoch, not the 10 s reached
    }

    [Fact]
    public void EventJson_Compose_KeepsContractAndAddsFields()
    {
        var defect = new Defect("video.freeze", 6.0, 9.04, 0.97, new Dictionary<string, double> { ["mafd"] = 0.0004 });
        var line = EventJson.Compose(defect, 42, "cam-1", 1_700_000_000, "/api/snapshots/abc");
        var contract = ContractJson.Defect(defect);
        Assert.StartsWith(contract[..^1] + ",", line);
        var json = JsonNode.Parse(line)!;
        Assert.Equal(42, json["id"]!.GetValue<long>());
        Assert.Equal("cam-1", json["stream_id"]!.GetValue<string>());
        Assert.Equal("2023-11-14T22:13:26.000Z", json["time"]!.GetValue<string>());
        Assert.Equal("2023-11-14T22:13:29.040Z", json["end_time"]!.GetValue<string>());
        Assert.Equal("/api/snapshots/abc", json["snapshot"]!.GetValue<string>());

        var parsed = EventJson.ParseDefect(line);
        Assert.Equal(defect.Kind, parsed.Kind);
        Assert.Equal(defect.Start, parsed.Start);
        Assert.Equal(defect.End, parsed.End);
        Assert.Equal(defect.Confidence, parsed.Confidence);
        Assert.Equal(0.0004, parsed.Details!["mafd"]);
    }

    [Fact]
    public void EventJson_ParseDefect_RebuildsIdentityAndClosedBy()
    {
        var defect = new Defect("audio.silence", 4.0, 6.5, 1.0, new Dictionary<string, double> { ["channel"] = 2 }, Stream: 1, Program: 7)
            .ClosedByMonitor(ClosedBy.Error);
        var parsed = EventJson.ParseDefect(EventJson.Compose(defect, 1, "cam-1", 1_700_000_000, null));
        Assert.Equal(defect.Key, parsed.Key);
        Assert.Equal(ClosedBy.Error, parsed.ClosedBy);
        Assert.Equal(ContractJson.Defect(defect), ContractJson.Defect(parsed));
    }

    [Fact]
    public void EventHub_TwoChannelsStartTogetherOneEnds_TheOtherIsStillOpen()
    {
        // what a kill -9 leaves: two silences from one instant, only one closed; a restart must close the other
        var folder = Path.Combine(Path.GetTempPath(), $"vigil-store-{Guid.NewGuid():N}");
        try
        {
            using var store = new ServiceStore(Path.Combine(folder, "vigil.db"));
            var hub = new EventHub(store, new ServiceOptions());
            Defect Dead(int channel) => new("audio.silence", 12.5, null, 1.0, new Dictionary<string, double> { ["channel"] = channel });
            hub.Publish("cam-1", 1_700_000_000, Dead(0), null);
            hub.Publish("cam-1", 1_700_000_000, Dead(1), null);
            hub.Publish("cam-1", 1_700_000_000, Dead(0) with { End = 15.0 }, null);

            var open = EventJson.ParseDefect(Assert.Single(store.OpenDefects("cam-1")).Json);
            Assert.Equal(Dead(1).Key, open.Key);
            hub.Publish("cam-1", 1_700_000_000, open with { End = 16.0 }, null); // the restart closes it
            Assert.Empty(store.OpenDefects("cam-1"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void InputPolicy_LocalInputsEnabled_AcceptsPaths()
    {
        var policy = new InputPolicy(new ServiceOptions { AllowLocalInputs = true });
        Assert.Null(policy.Check("/srv/media/clip.ts"));
        Assert.Null(policy.Check("file:///srv/media/clip.ts"));
        Assert.NotNull(policy.Check(""));
    }

    [Fact]
    public void InputPolicy_ConfiguredSchemes_ReplaceTheDefaults()
    {
        var policy = new InputPolicy(new ServiceOptions { AllowedSchemes = ["srt"] });
        Assert.Null(policy.Check("srt://127.0.0.1:9000?mode=caller"));
        Assert.Contains("not allowed", policy.Check("http://127.0.0.1/live.m3u8"));
    }

    [Fact]
    public void DetectorSetup_Masks_GoToVideoDetectorsUnlessSetPerKind()
    {
        var stream = new StreamConfig("s", "s", "udp://127.0.0.1:1", null,
            new Dictionary<string, string> { ["video.freeze.mask"] = "0,0,0.5,0.5" }, ["0.8,0,0.2,0.2"], false,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 0);
        var (selected, settings) = DetectorSetup.Build(stream);
        Assert.Equal(DetectorCatalog.All.Count, selected.Count);
        Assert.Equal("0.8,0,0.2,0.2", settings.Values["video.black.mask"]);
        Assert.Equal("0,0,0.5,0.5", settings.Values["video.freeze.mask"]);
        Assert.DoesNotContain(settings.Values.Keys, k => k.StartsWith("audio.", StringComparison.Ordinal));
    }

    [Fact]
    public void KindFilter_Families_MatchTheirKinds()
    {
        Assert.True(KindFilter.Matches(["video"], "video.black"));
        Assert.True(KindFilter.Matches(["audio.silence", "stream.stall"], "stream.stall"));
        Assert.False(KindFilter.Matches(["video"], "videox.black"));
        Assert.True(KindFilter.Matches(null, "anything"));
    }
}
