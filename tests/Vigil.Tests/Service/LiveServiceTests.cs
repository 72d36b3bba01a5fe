using System.Text.Json.Nodes;
using Vigil.Tests.Service.Support;
using Vigil.Tests.Support;

namespace Vigil.Tests.Service;

/// <summary>
/// The service on real live inputs on 127.0.0.1 — HLS over HTTP from a folder ffmpeg keeps writing, and
/// UDP MPEG-TS from an ffmpeg process — with black, frozen picture and silence injected by construction.
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class LiveServiceTests
{
    // short minimum durations (thresholds) keep each test to seconds of real time
    private static readonly Dictionary<string, object> Quick = new()
    {
        ["video.black.min_duration"] = 0.5,
        ["video.freeze.min_duration"] = 1.0,
        ["audio.silence.min_duration"] = 1.0,
    };

    [Fact]
    public async Task HlsStream_InjectedBlackFreezeSilence_DefectStartOverSseAndWebhookWithSnapshot()
    {
        var folder = Net.TempDir("hls");
        try
        {
            await using var hls = await HlsServer.StartAsync(folder, new FfmpegLive.Pattern(Period: 9, Black: (1, 2.5), Freeze: (3.5, 6), Silence: (6.5, 8.5)));
            await using var service = await ServiceUnderTest.StartAsync();
            await using var receiver = new WebhookReceiver();
            await receiver.StartAsync();
            using (var hook = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = receiver.Url, kinds = new[] { "video", "audio" } }))
                Assert.Equal(System.Net.HttpStatusCode.Created, hook.StatusCode);
            await using var sse = SseListener.Open(service.Http);

            var id = await service.AddStreamAsync(new { name = "hls", url = hls.Url, thresholds = Quick });

            foreach (var kind in new[] { "video.black", "video.freeze", "audio.silence" })
            {
                var (sseId, type, data) = await sse.WaitForAsync(e => e.Type == "defect_start" && e.Data.Kind() == kind, 40, $"{kind} defect_start over SSE");
                Assert.Equal(sseId, data.Id());
                EventAssert.Shape(data, id);
            }
            await Net.WaitUntilAsync(() => receiver.Received.Any(r => r.Body.Type() == "defect_start" && r.Body.Kind() == "video.black"), 15,
                "video.black defect_start on the webhook");

            var black = sse.Events.First(e => e.Type == "defect_start" && e.Data.Kind() == "video.black").Data;
            var snapshot = black["snapshot"]!.GetValue<string>();
            using var jpeg = await service.Http.GetAsync(snapshot);
            Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
            var bytes = await jpeg.Content.ReadAsByteArrayAsync();
            Assert.True(bytes.Length > 100 && bytes[0] == 0xFF && bytes[1] == 0xD8, "snapshot is a JPEG");

            // every started defect ends with a defect event carrying the same start and snapshot
            var end = await sse.WaitForAsync(e => e.Type == "defect" && e.Data.Kind() == "video.black", 15, "video.black defect (end)");
            Assert.Equal(black["start"]!.GetValue<double>(), end.Data["start"]!.GetValue<double>());
            Assert.Equal(snapshot, end.Data["snapshot"]!.GetValue<string>());
            Assert.InRange(end.Data["end"]!.GetValue<double>() - end.Data["start"]!.GetValue<double>(), 0.5, 4);

            var status = (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!;
            Assert.Equal("running", status["state"]!.GetValue<string>());
            Assert.True(status["frames_analysed"]!.GetValue<long>() > 0);
            Assert.Equal("hls", status["media"]!["format"]!.GetValue<string>());
            Assert.Contains($"vigil_stream_defects_total{{stream=\"{id}\",name=\"hls\",kind=\"video.black\"}}", await service.Http.GetStringAsync("/metrics"));

            // the stored history filters by kind family, as the live feed does
            var audio = (await service.Http.GetStringAsync($"/api/streams/{id}/events?kind=audio")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonNode.Parse(line)!).ToList();
            Assert.NotEmpty(audio);
            Assert.All(audio, e => Assert.Equal("audio.silence", e.Kind()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task UdpStream_WebhookReceiverDownThenBack_GetsEveryEventInOrder()
    {
        var port = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 3, Black: (1, 2)));
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["SegmentSeconds"] = "2" });
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        using (var hook = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = receiver.Url }))
            Assert.Equal(System.Net.HttpStatusCode.Created, hook.StatusCode);
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black" }, thresholds = Quick });

        await Net.WaitUntilAsync(() => receiver.Received.Count >= 1, 30, "a first webhook delivery");
        await receiver.StopAsync();
        var whileDown = (await service.EventsAsync()).Count;
        await Net.WaitUntilAsync(async () => (await service.EventsAsync()).Count >= whileDown + 3, 30, "three more events while the receiver is down");
        await Net.WaitUntilAsync(async () => (await service.GetJsonAsync("/healthz"))["pending_webhooks"]!.GetValue<int>() >= 3, 10,
            "undelivered events waiting in the outbox");
        await receiver.StartAsync();

        var stored = await service.EventsAsync();
        await Net.WaitUntilAsync(() => stored.All(e => receiver.Received.Any(r => r.Id == e.Id())), 30, "every stored event on the webhook");
        var delivered = receiver.Received.Select(r => r.Id).Distinct().ToList(); // at least once: a retry may repeat one
        Assert.Equal(delivered.Order().ToList(), delivered); // in order per stream (one stream here)
        foreach (var e in stored)
            Assert.Equal(e.ToJsonString(), receiver.Received.First(r => r.Id == e.Id()).Body.ToJsonString());
        Assert.All(stored, e => EventAssert.Shape(e, id));

        // results: one object per segment in the local folder by default; the stream has run for many 2 s segments by now
        var results = Path.Combine(service.DataDir, "results", id);
        List<JsonNode> Segments()
        {
            var read = new List<JsonNode>();
            if (!Directory.Exists(results)) return read;
            foreach (var file in Directory.EnumerateFiles(results, "*.json", SearchOption.AllDirectories))
            {
                try { read.Add(JsonNode.Parse(File.ReadAllText(file))!); }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { } // being written: read it next time
            }
            return read;
        }
        await Net.WaitUntilAsync(() => Segments().Any(s => s["frames_analysed"]?.GetValue<long>() > 0), 10,
            "a results segment with analysed frames in the local folder");
        var segments = Segments();
        Assert.All(segments, segment => Assert.Equal(id, segment["stream_id"]!.GetValue<string>()));
        // frames analysed within each segment: a delta, never negative
        Assert.All(segments, segment => Assert.True(segment["frames_analysed"]!.GetValue<long>() >= 0, segment.ToJsonString()));
    }

    [Fact]
    public async Task UdpStream_SourceStopsThenReturns_StallStartsAndEnds()
    {
        var port = Net.FreeUdpPort();
        var pattern = new FfmpegLive.Pattern(Period: 60);
        var source = FfmpegLive.Udp(port, pattern);
        try
        {
            await using var service = await ServiceUnderTest.StartAsync();
            await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=stream.stall");
            var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black" } });
            await Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["state"]!.GetValue<string>() == "running",
                30, "the stream to run");

            var before = sse.Events.Count; // a loaded machine may already have starved the pipeline for the stall time once
            await source.DisposeAsync();
            var start = await sse.WaitForAsync(e => e.Type == "defect_start", 15, "stream.stall defect_start", from: before);
            Assert.Equal("stream.stall", start.Data.Kind());
            var stalled = await service.GetJsonAsync($"/api/streams/{id}");
            Assert.True(stalled["status"]!["stalled"]!.GetValue<bool>(), $"{stalled.ToJsonString()}\nevents: {string.Join("\n", sse.Events.Select(e => e.Data.ToJsonString()))}");

            source = FfmpegLive.Udp(port, pattern);
            var end = await sse.WaitForAsync(e => e.Type == "defect", 30, "stream.stall defect (end) after the source returns");
            Assert.Equal(start.Data["start"]!.GetValue<double>(), end.Data["start"]!.GetValue<double>());
            Assert.True(end.Data["end"]!.GetValue<double>() - end.Data["start"]!.GetValue<double>() >= 2.0, "a stall lasts at least the stall time");
            Assert.All(sse.Events, e => Assert.Equal("stream.stall", e.Data.Kind())); // the kind filter holds
            var status = (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!;
            Assert.False(status["stalled"]!.GetValue<bool>());
            Assert.True(status["connections"]!.GetValue<long>() >= 2);
        }
        finally
        {
            await source.DisposeAsync();
        }
    }

    [Fact]
    public async Task ServiceKilledHard_Restarted_StreamsResumeAndNoReportedEventLost()
    {
        var port = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 3, Black: (1, 2)));
        await using var service = await ServiceUnderTest.StartAsync(childProcess: true);
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black" }, thresholds = Quick });

        List<(long Id, string Type, JsonNode Data)> reported;
        await using (var sse = SseListener.Open(service.Http))
        {
            await Net.WaitUntilAsync(() => sse.Events.Count >= 3, 40, "three events over SSE");
            service.KillHard();
            reported = sse.Events.ToList();
        }

        await service.RestartAsync();
        var stored = await service.EventsAsync();
        foreach (var (eventId, _, data) in reported)
            Assert.Equal(data.ToJsonString(), stored.Single(e => e.Id() == eventId).ToJsonString());

        // monitoring resumed by itself: new defects arrive, later in stream time than any before the crash
        var lastStart = stored.Max(e => e["start"]!.GetValue<double>());
        var lastId = stored.Max(e => e.Id());
        await using var after = SseListener.Open(service.Http, $"/api/events/live?after={lastId}");
        var fresh = await after.WaitForAsync(e => e.Type == "defect_start" && e.Id > lastId, 40, "a new defect_start after the restart");
        Assert.True(fresh.Data["start"]!.GetValue<double>() > lastStart);
        Assert.Equal("running", (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["state"]!.GetValue<string>());

        // nothing is left open: every defect_start stored has its defect (the crash's open one closed at restart)
        var all = await service.EventsAsync();
        foreach (var s in all.Where(e => e.Type() == "defect_start" && e.Id() < fresh.Id))
            Assert.Contains(all, e => e.Type() == "defect" && e.Kind() == s.Kind() && e["start"]!.GetValue<double>() == s["start"]!.GetValue<double>());

        // a graceful stop (SIGTERM) exits 0 and closes whatever is open: the database holds no defect left open
        await service.StopAsync();
        Assert.Equal(0, service.ExitCode);
        using var store = new Vigil.Service.Store.ServiceStore(Path.Combine(service.DataDir, "vigil.db"));
        Assert.Empty(store.OpenDefects(id));
    }

    [Fact]
    public async Task LocalFile_TwoChannelsDieTogether_TwoDefectsEachWithItsOwnSnapshot()
    {
        // issue 11.7: two per-channel silences starting at one instant are two defects, each linked to its snapshot
        var clip = await TestClips.TwoChannelsDieTogether();
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["AllowLocalInputs"] = "true" });
        await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=audio.silence");
        // video.black too: pictures are decoded, so defects get snapshots
        await service.AddStreamAsync(new { url = clip, detectors = new[] { "audio.silence", "video.black" }, thresholds = Quick });

        static int Channel(JsonNode e) => e["details"]!["channel"]!.GetValue<int>();
        await sse.WaitForAsync(e => e.Type == "defect" && sse.Events.Count(x => x.Type == "defect") >= 2, 40, "both silences ended");
        var events = sse.Events.Select(e => e.Data).ToList();
        var starts = events.Where(e => e.Type() == "defect_start").Take(2).ToList();
        var ends = events.Where(e => e.Type() == "defect").Take(2).ToList();
        Assert.Equal([1, 2], starts.Select(Channel).Order());
        Assert.Equal([1, 2], ends.Select(Channel).Order());
        Assert.Equal(starts[0]["start"]!.GetValue<double>(), starts[1]["start"]!.GetValue<double>()); // they did start together
        foreach (var start in starts)
        {
            var snapshot = start["snapshot"]?.GetValue<string>();
            Assert.False(string.IsNullOrEmpty(snapshot), $"defect_start without a snapshot: {start.ToJsonString()}");
            var end = ends.Single(e => Channel(e) == Channel(start));
            Assert.Equal(start["start"]!.GetValue<double>(), end["start"]!.GetValue<double>());
            Assert.Equal(snapshot, end["snapshot"]?.GetValue<string>());
        }
        Assert.NotEqual(starts[0]["snapshot"]!.GetValue<string>(), starts[1]["snapshot"]!.GetValue<string>());
    }
}
