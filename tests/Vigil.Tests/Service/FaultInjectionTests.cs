using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Vigil.Tests.Service.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Service;

/// <summary>
/// <c>vigil serve</c> under faults and hostile input (issue 12), one case per fault, each against real
/// processes on loopback with its expected event sequence; every wait is bounded in time and count.
/// <list type="bullet">
/// <item>dead feeds (nothing sending, garbage bytes, an HLS URL answering 404): stream.stall within the stall time, open across a restart, closed when media flows; a sender killed: stream.stall within the stall time of its last media</item>
/// <item>a 5 s burst of random UDP into a live feed: reported, and every defect it opened closes soon after the burst</item>
/// <item>codec switch on the same port (H.264 sender replaced by MPEG-2, same PIDs): codec_change reported, status follows, analysis goes on</item>
/// <item>sender restart with a timestamp reset: stream time runs on, defects after it found where they are</item>
/// <item><c>kill -9</c> mid-defect: a defect still there after the restart goes on under its first start; one that is gone closes with closed_by restart</item>
/// <item>webhook receiver down (60 s; <c>VIGIL_FAULT_OUTAGE_SECONDS</c>): every event stored meanwhile arrives after it is back, in order, first one within the capped backoff</item>
/// <item>500 concurrent SSE clients: capped per key (429) and in total (503); anonymous ones 401; slots come back</item>
/// <item>oversized and invalid bodies, unknown filters: 413 / 400 / 415, never 500, the service healthy after</item>
/// <item>SSRF targets (metadata, link-local, loopback and private for webhooks): refused at the API and at connect time, no packet sent</item>
/// </list>
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, object> QuickBlack = new() { ["video.black.min_duration"] = 0.5 };

    /// <summary>
    /// Expected sequence: video.black defect_start/defect pairs keep being stored while the receiver is
    /// away; <c>vigil_webhook_oldest_pending_age_seconds</c> grows to about the outage; once it is back,
    /// the first request arrives within the backoff cap (5 s) and every stored event follows, each with
    /// <c>Vigil-Event-Id</c> = its id, in id order; the age falls back to 0.
    /// </summary>
    [Fact]
    public async Task WebhookReceiverDown_EveryEventArrivesInOrderSoonAfterItIsBack()
    {
        var outage = Net.Seconds("VIGIL_FAULT_OUTAGE_SECONDS", 60);
        const double maxBackoff = 5; // the production default
        var port = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 3, Black: (1, 2)));
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>
        {
            ["WebhookMinBackoffSeconds"] = "0.5",
            ["WebhookMaxBackoffSeconds"] = maxBackoff.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        string hookId;
        using (var hook = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = receiver.Url }))
        {
            Assert.Equal(HttpStatusCode.Created, hook.StatusCode);
            hookId = JsonNode.Parse(await hook.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        }
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black" }, thresholds = QuickBlack });
        await Net.WaitUntilAsync(() => receiver.Received.Count >= 2, 60, "the first webhook deliveries");

        await receiver.StopAsync();
        var storedBefore = (await service.EventsAsync()).Count;
        await Task.Delay(TimeSpan.FromSeconds(outage)); // the fault itself: the receiver is away this long
        var age = OldestPendingAge(await service.Http.GetStringAsync("/metrics"), hookId);
        var storedDuring = (await service.EventsAsync()).Count - storedBefore;
        Assert.True(storedDuring >= 2, $"events kept coming while the receiver was down ({storedDuring})");
        Assert.True(age >= outage / 2, $"oldest pending age {age:0.0} s after a {outage} s outage");

        await receiver.StartAsync();
        var back = DateTime.UtcNow;
        var firstArrival = (await WaitForArrivalAsync(receiver, back, maxBackoff + 30)).At;
        var stored = await service.EventsAsync();
        await Net.WaitUntilAsync(() => stored.All(e => receiver.Received.Any(r => r.Id == e.Id())), 60, "every stored event on the webhook");
        var firstDelay = (firstArrival - back).TotalSeconds;
        output.WriteLine($"outage {outage} s: {storedDuring} events stored meanwhile; oldest pending age {age:0.0} s; " +
                         $"first redelivery {firstDelay:0.00} s after the receiver came back (backoff cap {maxBackoff} s)");
        Assert.True(firstDelay <= maxBackoff + 5, $"first redelivery {firstDelay:0.00} s after the receiver came back");

        var delivered = receiver.Received.Select(r => r.Id).ToList();
        var distinct = delivered.Distinct().ToList();
        Assert.Equal(distinct.Order().ToList(), distinct); // one stream: in order
        output.WriteLine($"{delivered.Count} requests for {distinct.Count} events ({delivered.Count - distinct.Count} repeated: at least once)");
        foreach (var e in stored)
        {
            EventAssert.Shape(e, id);
            Assert.Equal(e.ToJsonString(), receiver.Received.First(r => r.Id == e.Id()).Body.ToJsonString());
        }
        Assert.All(stored.Chunk(2).Where(c => c.Length == 2), pair =>
        {
            Assert.Equal(("defect_start", "defect"), (pair[0].Type(), pair[1].Type())); // video.black starts then ends, every period
            Assert.Equal("video.black", pair[0].Kind());
        });
        await Net.WaitUntilAsync(async () => OldestPendingAge(await service.Http.GetStringAsync("/metrics"), hookId) < 3, 30,
            "the oldest pending age to fall once the backlog is delivered");
    }

    /// <summary>
    /// Expected: with 5 read keys, at most 20 connections per key and 50 in total: key A's 100 clients get
    /// 20 streams and 80 × 429; the 400 clients of keys B–E fill the remaining 30 slots and the rest get 503
    /// (or 429 for a key at 20); 100 clients without a key all get 401 and take no slot; /healthz answers
    /// throughout; once the clients close, a new connection is accepted again.
    /// </summary>
    [Fact]
    public async Task SseFlood_500Clients_CappedPerKeyAndInTotal()
    {
        var keys = Enumerable.Range(0, 5).Select(i => $"flood-read-key-{i}").ToArray();
        var settings = new Dictionary<string, string?> { ["MaxSseConnections"] = "50", ["MaxSseConnectionsPerKey"] = "20" };
        for (var i = 0; i < keys.Length; i++) settings[$"ReadKeys:{i}"] = keys[i];
        settings[$"ReadKeys:{keys.Length}"] = ServiceUnderTest.ReadKey; // the test's own reads
        await using var service = await ServiceUnderTest.StartAsync(settings: settings);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1000, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = service.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var open = new List<HttpResponseMessage>();
        try
        {
            async Task<(string Key, HttpStatusCode Status)> OpenAsync(string? key)
            {
                var request = new HttpRequestMessage(HttpMethod.Get, "/api/events/live");
                if (key is not null) request.Headers.Add("X-Api-Key", key);
                var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                if (response.StatusCode == HttpStatusCode.OK) lock (open) open.Add(response);
                else response.Dispose();
                return (key ?? "none", response.StatusCode);
            }

            var first = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => OpenAsync(keys[0])));
            Assert.Equal(20, first.Count(r => r.Status == HttpStatusCode.OK));
            Assert.Equal(80, first.Count(r => r.Status == HttpStatusCode.TooManyRequests));

            var rest = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => OpenAsync(keys[1 + i % 4])));
            var anonymous = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => OpenAsync(null)));
            Assert.All(anonymous, r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
            var all = first.Concat(rest).ToList();
            Assert.Equal(50, all.Count(r => r.Status == HttpStatusCode.OK));
            Assert.All(all, r => Assert.Contains(r.Status, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable }));
            Assert.True(rest.Count(r => r.Status == HttpStatusCode.ServiceUnavailable) > 0, "the total cap answered 503");
            Assert.All(keys, k => Assert.InRange(all.Count(r => r.Key == k && r.Status == HttpStatusCode.OK), 0, 20));
            output.WriteLine($"500 keyed clients: {all.Count(r => r.Status == HttpStatusCode.OK)} streaming, " +
                             $"{all.Count(r => r.Status == HttpStatusCode.TooManyRequests)} × 429, {all.Count(r => r.Status == HttpStatusCode.ServiceUnavailable)} × 503; 100 × 401 without a key");

            using (var health = await service.Http.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            var metrics = await service.Http.GetStringAsync("/metrics");
            Assert.Contains("vigil_sse_subscribers 50", metrics);
            Assert.Matches(@"vigil_sse_refused_total (4[0-9]{2})\n", metrics);
        }
        finally
        {
            foreach (var response in open) response.Dispose();
        }
        await Net.WaitUntilAsync(async () => (await service.Http.GetStringAsync("/metrics")).Contains("vigil_sse_subscribers 0\n"), 30,
            "the closed connections to give their slots back");
        using var again = await service.Http.GetAsync("/api/events/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    /// <summary>
    /// Expected: 10 MB with a Content-Length and 10 MB chunked get 413; malformed, empty, wrongly typed,
    /// deeply nested JSON and unknown fields 400; a form body 415; unknown kind filters (history, live,
    /// webhooks), unknown webhook streams and bad paging 400. Nothing is stored; the service stays healthy.
    /// </summary>
    [Fact]
    public async Task HostileBodies_OversizedAndInvalid_ClearClientErrorsNever500()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["OpenTimeoutSeconds"] = "1" });
        var tenMegabytes = """{"url":"udp://127.0.0.1:9","name":" """ + new string('x', 10 << 20) + "\"}";
        // 10 MB declared: refused from its Content-Length. Expect: 100-continue (what curl sends for a large body) lets
        // the client hear the answer instead of pushing 10 MB into a closed connection. 1.5 MB chunked (no length):
        // refused when reading passes the limit.
        using var patient = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = service.Http.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        foreach (var (body, chunked) in new[] { (tenMegabytes, false), (tenMegabytes[..(3 << 19)] + "\"}", true) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/streams");
            request.Headers.Add("X-Api-Key", ServiceUnderTest.ApiKey);
            request.Headers.ExpectContinue = !chunked;
            request.Content = chunked
                ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)))
                : new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            if (chunked) request.Headers.TransferEncodingChunked = true;
            using var response = await patient.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{body.Length} bytes{(chunked ? " chunked" : "")}: {(int)response.StatusCode}");
            Assert.Contains("limited to 1048576 bytes", await response.Content.ReadAsStringAsync());
        }

        var invalid = new (string Body, HttpStatusCode Expected)[]
        {
            ("""{"url": """, HttpStatusCode.BadRequest),
            ("", HttpStatusCode.BadRequest),
            ("null", HttpStatusCode.BadRequest),
            ("[]", HttpStatusCode.BadRequest),
            ("""{"url": 42}""", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","detectors":"video"}""", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","paused":"yes"}""", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","surprise":1}""", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","name":""" + "\"" + new string('n', 300) + "\"}", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","masks":[""" + string.Join(",", Enumerable.Repeat("\"0,0,0.1,0.1\"", 100)) + "]}", HttpStatusCode.BadRequest),
            ("""{"url":"udp://127.0.0.1:9","thresholds":{"video.black.min_duration":""" + new string('[', 5000) + new string(']', 5000) + "}}", HttpStatusCode.BadRequest),
            ("\u0000\u0001binary", HttpStatusCode.BadRequest),
        };
        foreach (var (body, expected) in invalid)
        {
            using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", body);
            Assert.True(response.StatusCode == expected, $"{body[..Math.Min(60, body.Length)]}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        using (var form = new HttpRequestMessage(HttpMethod.Post, "/api/streams") { Content = new StringContent("url=udp://x", Encoding.UTF8, "application/x-www-form-urlencoded") })
        {
            form.Headers.Add("X-Api-Key", ServiceUnderTest.ApiKey);
            using var response = await service.Anonymous.SendAsync(form);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        }

        foreach (var path in new[] { "/api/events?kind=video.blurry", "/api/events?kind=video,nonsense", "/api/events?limit=0", "/api/events?after=-5",
                     "/api/events?after=abc", "/api/events/live?kind=audio.nope", "/api/streams/none/events?kind=x" })
        {
            using var response = await service.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
        using (var kinds = await service.Http.GetAsync("/api/events/live?kind=audio.nope", HttpCompletionOption.ResponseHeadersRead))
            Assert.Contains("audio.nope", await kinds.Content.ReadAsStringAsync());
        foreach (var hook in new object[]
                 {
                     new { url = "http://127.0.0.1:9/h", kinds = new[] { "video.blurry" } },
                     new { url = "http://127.0.0.1:9/h", streams = new[] { "no-such-stream" } },
                     new { url = "http://127.0.0.1:9/h", streams = new[] { "Bad Id!" } },
                     new { url = "http://user:pw@127.0.0.1:9/h" },
                     new { url = "http://127.0.0.1:9/" + new string('p', 3000) },
                 })
        {
            using var response = await service.SendAsync(HttpMethod.Post, "/api/webhooks", hook);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{System.Text.Json.JsonSerializer.Serialize(hook)}: {(int)response.StatusCode}");
        }

        Assert.Empty((await service.GetJsonAsync("/api/streams")).AsArray());
        Assert.Empty((await service.GetJsonAsync("/api/webhooks")).AsArray());
        Assert.Equal("ok", (await service.GetJsonAsync("/healthz"))["status"]!.GetValue<string>());
    }

    /// <summary>
    /// Expected: streams at metadata and link-local addresses, and webhooks at loopback, private, link-local
    /// and metadata addresses (also spelled as IPv4-mapped IPv6, decimal, or a name such as localhost) get
    /// 400 naming the address; an allow-list lets a private network in but never a metadata address; a
    /// webhook whose address became forbidden after it was stored is refused at connect time (the
    /// listener behind it counts 0 connections) and a stored stream aimed at the metadata service is never
    /// opened (0 connections, its error says why). No event is lost: the refused deliveries stay pending.
    /// </summary>
    [Fact]
    public async Task SsrfTargets_RefusedAtTheApiAndAtConnect_NoPacketSent()
    {
        using var counter = new ConnectionCounter();
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OpenTimeoutSeconds"] = "1",
            ["WebhookAllowedNetworks:0"] = null, // the default: no internal network allowed
        });
        foreach (var url in new[]
                 {
                     "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[::ffff:169.254.169.254]/latest/",
                     "http://[fd00:ec2::254]/latest/meta-data/", "http://100.100.100.200/latest/meta-data/", "udp://169.254.10.20:5000",
                     "srt://[fe80::1]:9000?mode=caller", "rtsp://169.254.1.1/stream",
                 })
        {
            using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {text}");
            Assert.Contains("input refused", text);
        }
        foreach (var url in new[]
                 {
                     $"http://127.0.0.1:{counter.Port}/hook", $"http://localhost:{counter.Port}/hook", $"http://[::1]:{counter.Port}/hook",
                     $"http://[::ffff:127.0.0.1]:{counter.Port}/hook", $"http://2130706433:{counter.Port}/hook", $"http://0.0.0.0:{counter.Port}/hook",
                     "http://10.0.0.1/hook", "http://172.16.5.5/hook", "http://192.168.1.1/hook", "http://100.64.0.1/hook",
                     "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "https://100.100.100.200/", "http://[fe80::1]/hook",
                 })
        {
            using var response = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {text}");
            Assert.Contains("refused", text);
        }
        Assert.Empty((await service.GetJsonAsync("/api/webhooks")).AsArray());

        // the allow-list lets the loopback receiver in, but a metadata address stays out even when its network is listed
        await service.RestartAsync(new Dictionary<string, string?> { ["WebhookAllowedNetworks:0"] = "127.0.0.0/8", ["WebhookAllowedNetworks:1"] = "169.254.0.0/16" });
        using (var allowed = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = $"http://127.0.0.1:{counter.Port}/hook" }))
            Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        using (var metadata = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = "http://169.254.169.254/latest/" }))
            Assert.Contains("metadata", await metadata.Content.ReadAsStringAsync());

        // the operator takes loopback off the allow-list: the stored webhook is refused at connect time.
        // A stream aimed at the metadata service is planted in the store (as an older version could have accepted it).
        await service.StopAsync();
        using (var store = new Vigil.Service.Store.ServiceStore(Path.Combine(service.DataDir, "vigil.db")))
        {
            var now = DateTimeOffset.UtcNow;
            store.InsertStream(new Vigil.Service.Store.StreamConfig("planted", "planted", "http://169.254.169.254/latest/meta-data/", null,
                new Dictionary<string, string>(), [], false, now, now, now.ToUnixTimeMilliseconds() / 1000.0));
        }
        var udp = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(udp, new FfmpegLive.Pattern(Period: 3, Black: (1, 2)));
        await service.RestartAsync(new Dictionary<string, string?> { ["WebhookAllowedNetworks:0"] = null, ["WebhookAllowedNetworks:1"] = null });
        await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{udp}", detectors = new[] { "video.black" }, thresholds = QuickBlack });
        await Net.WaitUntilAsync(async () => System.Text.RegularExpressions.Regex.IsMatch(await service.Http.GetStringAsync("/metrics"),
            @"vigil_webhook_failures_total [1-9]"), 60, "a delivery attempt, refused");
        var planted = (await service.GetJsonAsync("/api/streams/planted"))["status"]!;
        await Net.WaitUntilAsync(async () => (await service.GetJsonAsync("/api/streams/planted"))["status"]!["last_error"] is not null, 30,
            "the planted stream to be refused");
        planted = (await service.GetJsonAsync("/api/streams/planted"))["status"]!;
        Assert.Contains("169.254.169.254 is a cloud metadata address", planted["last_error"]!.GetValue<string>());
        Assert.Equal(0, planted["connections"]!.GetValue<long>());
        Assert.True((await service.GetJsonAsync("/healthz"))["pending_webhooks"]!.GetValue<long>() >= 1, "refused deliveries stay in the outbox");
        Assert.Equal(0, counter.Connections);
    }

    private static readonly Dictionary<string, string?> Dead = new() { ["OpenTimeoutSeconds"] = "1", ["StallSeconds"] = "2" };

    /// <summary>
    /// Expected, for each of three dead feeds (a UDP port nothing sends to, one that gets only random bytes,
    /// an HLS URL answering 404): one stream.stall defect_start whose start is where monitoring began,
    /// within the stall time (2 s) plus a little, its status stalled and <c>vigil_stream_stalled</c> 1;
    /// after a graceful restart the stall is still open (no defect, no second defect_start); when a sender
    /// starts on the first port, its defect follows with the same start.
    /// </summary>
    [Fact]
    public async Task DeadFeeds_NothingGarbageFailingHls_StallRaisedKeptAcrossRestartClosedByMedia()
    {
        var silentPort = Net.FreeUdpPort();
        var garbagePort = Net.FreeUdpPort();
        await using var garbage = new GarbageSender(garbagePort, seconds: 120, datagramsPerSecond: 100);
        await using var failing = await FailingHttpServer.StartAsync();
        await using var service = await ServiceUnderTest.StartAsync(settings: Dead);
        await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=stream.stall");
        var added = new Dictionary<string, DateTime>();
        foreach (var (id, url) in new[] { ("silent", $"udp://127.0.0.1:{silentPort}"), ("garbage", $"udp://127.0.0.1:{garbagePort}"), ("hls404", failing.Url) })
        {
            added[id] = DateTime.UtcNow;
            await service.AddStreamAsync(new { id, url, detectors = new[] { "video.black" } });
        }
        foreach (var id in added.Keys)
        {
            var stall = await sse.WaitForAsync(e => e.Type == "defect_start" && e.Data["stream_id"]!.GetValue<string>() == id, 30, $"{id}: stream.stall");
            var delay = (sse.ReceivedAt(stall.Id) - added[id]).TotalSeconds;
            output.WriteLine($"{id}: stream.stall {delay:0.00} s after the stream was added (stall time 2 s)");
            Assert.InRange(delay, 1.9, 2 + 5);
            var time = DateTime.Parse(stall.Data["time"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.RoundtripKind);
            Assert.InRange((time - added[id]).TotalSeconds, -1, 1.5); // it began when monitoring did
            Assert.True((await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["stalled"]!.GetValue<bool>());
        }
        var metrics = await service.Http.GetStringAsync("/metrics");
        foreach (var id in added.Keys) Assert.Matches($@"vigil_stream_stalled\{{stream=""{id}"",[^}}]*\}} 1\n", metrics);

        // a graceful restart keeps every stall open: no defect, no second defect_start
        var before = (await service.EventsAsync()).Count;
        await service.RestartAsync();
        await Task.Delay(TimeSpan.FromSeconds(4)); // two stall times: a stall closed at shutdown would have been raised again by now
        var events = await service.EventsAsync();
        Assert.Equal(before, events.Count);
        Assert.All(events, e => Assert.Equal("defect_start", e.Type()));
        foreach (var id in added.Keys) Assert.True((await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["stalled"]!.GetValue<bool>(), $"{id} stalled after the restart");

        await using var sender = FfmpegLive.Udp(silentPort, new FfmpegLive.Pattern(Period: 60));
        await using var after = SseListener.Open(service.Http, "/api/events/live?kind=stream.stall&stream=silent");
        var end = await after.WaitForAsync(e => e.Type == "defect", 40, "the silent feed's stall to end once media flows");
        var start = events.Single(e => e["stream_id"]!.GetValue<string>() == "silent");
        Assert.Equal(start["start"]!.GetValue<double>(), end.Data["start"]!.GetValue<double>());
        Assert.Null(end.Data["details"]?["closed_by"]); // closed by the media
        Assert.False((await service.GetJsonAsync("/api/streams/silent"))["status"]!["stalled"]!.GetValue<bool>());
    }

    /// <summary>
    /// Expected: the sender of a running feed is killed, four times (restarted in between); each time stream.stall
    /// comes the stall time (2 s) after the feed's last media plus the watchdog's tick, not twice the stall time:
    /// the demuxer hands out a transport stream's last packets only when the read times out (after the stall time),
    /// and that media, decoded then, does not count as arriving then (when it did, whether the alert came at one or
    /// two stall times was a race between the watchdog's tick and that read, hence four kills). Each stall starts
    /// where the media ended (its wall-clock <c>time</c> at the kill) and closes once the sender is back.
    /// </summary>
    [Fact]
    public async Task SenderKilled_StallWithinTheStallTimeOfItsLastMedia()
    {
        const double stallSeconds = 2;
        const int kills = 4;
        var port = Net.FreeUdpPort();
        var pattern = new FfmpegLive.Pattern(Period: 600);
        var sender = FfmpegLive.Udp(port, pattern);
        try
        {
            await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>
            {
                ["StallSeconds"] = $"{stallSeconds}", ["OpenTimeoutSeconds"] = "2", ["ReconnectMaxSeconds"] = "1",
            });
            await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=stream.stall");
            var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black" } });
            var delays = new List<double>();
            for (var kill = 0; kill < kills; kill++)
            {
                var analysed = (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["frames_analysed"]!.GetValue<long>();
                await Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["frames_analysed"]!.GetValue<long>() > analysed + 50,
                    40, $"two seconds of media analysed before kill {kill + 1}");
                var seen = sse.Events.Count;
                await sender.DisposeAsync(); // killed: its last datagrams are on their way now
                var killed = DateTimeOffset.UtcNow;
                var stall = await sse.WaitForAsync(e => e.Type == "defect_start", 30, $"stream.stall after kill {kill + 1}", seen);
                var delay = (sse.ReceivedAt(stall.Id) - killed).TotalSeconds;
                var time = DateTimeOffset.Parse(stall.Data["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
                output.WriteLine($"kill {kill + 1}: stream.stall {delay:0.00} s after it (stall time {stallSeconds} s), starting {(time - killed).TotalSeconds:+0.00;-0.00} s from it");
                delays.Add(delay);
                Assert.InRange((time - killed).TotalSeconds, -2, 0.5); // where the media ended (the feed's own latency before it)
                Assert.True((await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["stalled"]!.GetValue<bool>());
                sender = FfmpegLive.Udp(port, pattern);
                await sse.WaitForAsync(e => e.Type == "defect" && e.Data["start"]!.GetValue<double>() == stall.Data["start"]!.GetValue<double>(), 40,
                    $"the stall to close once the sender is back ({kill + 1})", seen);
            }
            // the stall time, the watchdog's 0.25 s tick and room for a loaded machine: the media flushed at the read
            // timeout counted as arriving then makes it two stall times. Counted from the kill, which comes a moment after
            // the sender's last datagram (on a loaded machine its sends come in bursts), hence a little less at the least.
            Assert.All(delays, d => Assert.InRange(d, stallSeconds - 0.5, stallSeconds + 1.2));
        }
        finally
        {
            await sender.DisposeAsync();
        }
    }

    /// <summary>
    /// Expected: a live H.264 feed gets 5 s of random datagrams on its port; a stream.discontinuity starts
    /// during the burst and its defect comes within a few seconds after the burst (merge window), not at
    /// shutdown; every defect_start has its defect while the feed keeps running (video.corruption heals at
    /// the next clean key frame, a false av.sync cannot stay open); the feed stays running.
    /// </summary>
    [Fact]
    public async Task GarbageBurstIntoLiveFeed_ReportedEveryDefectClosesSoonAfter()
    {
        var port = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 600));
        await using var service = await ServiceUnderTest.StartAsync();
        await using var sse = SseListener.Open(service.Http);
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}" });
        await Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["state"]!.GetValue<string>() == "running", 30, "the stream to run");
        await Task.Delay(3000); // a few seconds of clean media first (av.sync needs its window)
        var quietBefore = sse.Events.Count;
        await using (var burst = new GarbageSender(port, seconds: 5, datagramsPerSecond: 100))
            await burst.Finished.WaitAsync(TimeSpan.FromSeconds(30));
        var burstEnded = DateTime.UtcNow;
        // the burst is reported (as lost packets: stream.discontinuity, or the transport analyser's ts.* indicators)
        await sse.WaitForAsync(e => e.Type == "defect_start" && (e.Data.Kind() == "stream.discontinuity" || e.Data.Kind().StartsWith("ts.", StringComparison.Ordinal)), 30,
            "a defect for the burst", quietBefore);
        await Net.WaitUntilAsync(() =>
        {
            var all = sse.Events.Skip(quietBefore).ToList();
            return all.Where(e => e.Type == "defect_start").All(s => all.Any(e => e.Type == "defect" && e.Data.Kind() == s.Data.Kind()
                && e.Data["start"]!.GetValue<double>() == s.Data["start"]!.GetValue<double>()));
        }, 30, "every defect the burst opened to close while the feed runs");
        var closes = sse.Events.Skip(quietBefore).Where(e => e.Type == "defect").ToList();
        var lastClosedAfter = (sse.ReceivedAt(closes[^1].Id) - burstEnded).TotalSeconds;
        output.WriteLine($"last of {closes.Count} defects ({string.Join(", ", closes.Select(e => e.Data.Kind()).Distinct())}) closed {lastClosedAfter:0.00} s after the burst ended");
        Assert.True(lastClosedAfter < 15, $"closed {lastClosedAfter:0.0} s after the burst");
        Assert.Equal("running", (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["state"]!.GetValue<string>());
        foreach (var e in sse.Events.Where(e => e.Type == "defect_start")) AssertNotInTheFuture(sse, e);
    }

    /// <summary>
    /// Expected: an H.264 sender on a port is replaced by an MPEG-2 one on the same port (same PIDs, PMT version
    /// 0 both, which libavformat does not notice: issue 12.2). The converter finds the new codec and reports
    /// a stream.discontinuity with <c>details.codec_change</c>; the status's <c>video_codec</c> becomes
    /// mpeg2video; the MPEG-2 black is reported (≈ 2 s) and ends; stream time runs on (the black starts later
    /// than anything before the switch); nothing stays open.
    /// </summary>
    [Fact]
    public async Task CodecSwitch_H264ThenMpeg2OnTheSamePort_CodecChangeReportedAndAnalysisGoesOn()
    {
        var port = Net.FreeUdpPort();
        var h264 = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 600));
        await using var service = await ServiceUnderTest.StartAsync();
        await using var sse = SseListener.Open(service.Http);
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", thresholds = new Dictionary<string, object> { ["video.black.min_duration"] = 1.0 } });
        await Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["media"]?["video_codec"]?.GetValue<string>() == "h264", 30,
            "the H.264 feed to run");
        await Task.Delay(3000);
        var positionBefore = (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["position"]!.GetValue<double>();
        await h264.DisposeAsync();
        await using var mpeg2 = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 600, Black: (4, 6)), mpeg2: true);

        var change = await sse.WaitForAsync(e => e.Data.Kind() == "stream.discontinuity" && e.Data["details"]?["codec_change"] is not null, 40,
            "a stream.discontinuity with codec_change");
        await Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["media"]?["video_codec"]?.GetValue<string>() == "mpeg2video", 20,
            "the status to show mpeg2video");
        var black = await sse.WaitForAsync(e => e.Type == "defect" && e.Data.Kind() == "video.black", 40, "the MPEG-2 part's black");
        var length = black.Data["end"]!.GetValue<double>() - black.Data["start"]!.GetValue<double>();
        output.WriteLine($"codec change reported at {change.Data["start"]} (switch near {positionBefore:0.0}); black {black.Data["start"]}..{black.Data["end"]} ({length:0.00} s); " +
            $"defects: {string.Join(", ", sse.Events.Where(e => e.Type == "defect_start").Select(e => e.Data.Kind()))}");
        Assert.InRange(length, 1.6, 2.5);
        Assert.True(black.Data["start"]!.GetValue<double>() > positionBefore + 3, "stream time ran on across the switch");
        await Net.WaitUntilAsync(() => sse.Events.Where(e => e.Type == "defect_start").All(s => sse.Events.Any(e => e.Type == "defect"
            && e.Data.Kind() == s.Data.Kind() && e.Data["start"]!.GetValue<double>() == s.Data["start"]!.GetValue<double>())), 30, "nothing to stay open");
        foreach (var e in sse.Events.Where(e => e.Type == "defect_start")) AssertNotInTheFuture(sse, e);
    }

    /// <summary>
    /// Expected: a sender with black every 4 s (1–2 s of each period) is restarted, so its timestamps start
    /// over; a stream.discontinuity (timestamp jump) is reported near the restart; blacks keep coming, each
    /// later in stream time than the one before, each about 1 s long; nothing stays open.
    /// </summary>
    [Fact]
    public async Task SenderRestart_TimestampsReset_StreamTimeRunsOnDefectsStillFound()
    {
        var port = Net.FreeUdpPort();
        var pattern = new FfmpegLive.Pattern(Period: 4, Black: (1, 2));
        var first = FfmpegLive.Udp(port, pattern);
        await using var service = await ServiceUnderTest.StartAsync();
        await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=video.black,stream.discontinuity");
        var id = await service.AddStreamAsync(new { url = $"udp://127.0.0.1:{port}", detectors = new[] { "video.black", "stream.discontinuity" }, thresholds = QuickBlack });
        await sse.WaitForAsync(e => e.Type == "defect" && e.Data.Kind() == "video.black", 40, "a first black");
        var blacksBefore = sse.Events.Count(e => e.Type == "defect" && e.Data.Kind() == "video.black");
        await first.DisposeAsync();
        await Task.Delay(500); // the sender is down for a moment (less than the stall time)
        await using var second = FfmpegLive.Udp(port, pattern);
        await Net.WaitUntilAsync(() => sse.Events.Count(e => e.Type == "defect" && e.Data.Kind() == "video.black") >= blacksBefore + 2, 40,
            "two blacks after the restart");
        var blacks = sse.Events.Where(e => e.Type == "defect" && e.Data.Kind() == "video.black").Select(e => e.Data).ToList();
        var starts = blacks.Select(b => b["start"]!.GetValue<double>()).ToList();
        Assert.Equal(starts.Order().ToList(), starts);
        Assert.All(blacks, b => Assert.InRange(b["end"]!.GetValue<double>() - b["start"]!.GetValue<double>(), 0.8, 1.3));
        Assert.Contains(sse.Events, e => e.Data.Kind() == "stream.discontinuity");
        foreach (var e in sse.Events.Where(e => e.Type == "defect_start")) AssertNotInTheFuture(sse, e);
        _ = id;
    }

    /// <summary>
    /// Expected: two feeds are black when the service is killed (-9). Feed A stays black through the restart:
    /// no second defect_start, and its defect, when the black ends, has the first start (one defect across
    /// the crash, not closed and reopened). Feed B's sender is replaced by one without black while the service
    /// is down: its defect closes within <c>ContinueSeconds</c> with <c>closed_by: "restart"</c>. Every event a
    /// client saw before the crash is stored as it was.
    /// </summary>
    [Fact]
    public async Task KillHardMidDefect_StillThereContinues_GoneClosedByRestart()
    {
        var portA = Net.FreeUdpPort();
        var portB = Net.FreeUdpPort();
        // black from 2 to 30 s of feed A's clock: still black when the service comes back, over some seconds later
        await using var a = FfmpegLive.Udp(portA, new FfmpegLive.Pattern(Period: 600, Black: (2, 30)));
        var b = FfmpegLive.Udp(portB, new FfmpegLive.Pattern(Period: 600, Black: (2, 600)));
        await using var service = await ServiceUnderTest.StartAsync(childProcess: true);
        var detect = new { detectors = new[] { "video.black" }, thresholds = QuickBlack };
        await service.AddStreamAsync(new { id = "feed-a", url = $"udp://127.0.0.1:{portA}", detect.detectors, detect.thresholds });
        await service.AddStreamAsync(new { id = "feed-b", url = $"udp://127.0.0.1:{portB}", detect.detectors, detect.thresholds });
        List<(long Id, string Type, JsonNode Data)> seen;
        await using (var sse = SseListener.Open(service.Http, "/api/events/live?kind=video.black"))
        {
            await Net.WaitUntilAsync(() => new[] { "feed-a", "feed-b" }.All(f => sse.Events.Any(e => e.Type == "defect_start" && e.Data["stream_id"]!.GetValue<string>() == f)),
                40, "both feeds black");
            await Task.Delay(2500); // a saved position past the defects' start
            service.KillHard();
            seen = sse.Events.ToList();
        }
        await b.DisposeAsync();
        await using var bClean = FfmpegLive.Udp(portB, new FfmpegLive.Pattern(Period: 600));
        await service.RestartAsync();
        var stored = await service.EventsAsync();
        foreach (var (eventId, _, data) in seen) Assert.Equal(data.ToJsonString(), stored.Single(e => e.Id() == eventId).ToJsonString());
        var startA = seen.Single(e => e.Data["stream_id"]!.GetValue<string>() == "feed-a").Data["start"]!.GetValue<double>();
        var startB = seen.Single(e => e.Data["stream_id"]!.GetValue<string>() == "feed-b").Data["start"]!.GetValue<double>();

        await using var after = SseListener.Open(service.Http, $"/api/events/live?kind=video.black&after={stored.Max(e => e.Id())}");
        var closedB = await after.WaitForAsync(e => e.Type == "defect" && e.Data["stream_id"]!.GetValue<string>() == "feed-b", 60, "feed B's black closed");
        Assert.Equal(startB, closedB.Data["start"]!.GetValue<double>());
        Assert.Equal("restart", closedB.Data["details"]!["closed_by"]!.GetValue<string>());

        var endA = await after.WaitForAsync(e => e.Type == "defect" && e.Data["stream_id"]!.GetValue<string>() == "feed-a", 60, "feed A's black to end");
        Assert.Equal(startA, endA.Data["start"]!.GetValue<double>()); // one defect across the crash
        Assert.Null(endA.Data["details"]?["closed_by"]);               // ended by the media
        Assert.DoesNotContain(after.Events, e => e.Type == "defect_start" && e.Data["stream_id"]!.GetValue<string>() == "feed-a" && e.Id < endA.Id);
        output.WriteLine($"feed A: black {startA:0.00}..{endA.Data["end"]} continued across kill -9; feed B: closed_by restart at {closedB.Data["end"]}");
    }

    /// <summary>An event's <c>time</c> is not later than the moment its defect_start arrived (issue 12.7).</summary>
    private static void AssertNotInTheFuture(SseListener sse, (long Id, string Type, JsonNode Data) e)
    {
        var time = DateTime.Parse(e.Data["time"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.RoundtripKind);
        var arrived = sse.ReceivedAt(e.Id);
        Assert.True(time <= arrived.AddMilliseconds(5), $"{e.Data.Kind()} time {time:HH:mm:ss.fff} is after it arrived ({arrived:HH:mm:ss.fff})");
    }

    private static async Task<(long Id, DateTime At, string? Stream)> WaitForArrivalAsync(WebhookReceiver receiver, DateTime after, double seconds)
    {
        (long, DateTime, string?)? found = null;
        await Net.WaitUntilAsync(() =>
        {
            found = receiver.Arrivals.Cast<(long, DateTime, string?)?>().FirstOrDefault(a => a!.Value.Item2 >= after);
            return found is not null;
        }, seconds, "a webhook request after the receiver came back");
        return found!.Value;
    }

    private static double OldestPendingAge(string metrics, string hookId)
    {
        var match = System.Text.RegularExpressions.Regex.Match(metrics,
            $@"vigil_webhook_oldest_pending_age_seconds\{{webhook=""{hookId}""\}} ([0-9.]+)");
        Assert.True(match.Success, $"no oldest-pending line for {hookId} in /metrics");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
