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
