using System.Net;
using System.Text.Json.Nodes;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Service;

/// <summary>The streams API without live media: keys, validation (clear 4xx), CRUD persisted across a restart, OpenAPI, metrics.</summary>
[Collection(LiveServiceCollection.Name)]
public sealed class ServiceApiTests
{
    // nothing listens on this UDP port: the stream's pipeline keeps failing to open and reconnecting
    private static readonly string QuietUrl = $"udp://127.0.0.1:{Net.FreeUdpPort()}";

    private static readonly Dictionary<string, string?> QuickOpen = new() { ["OpenTimeoutSeconds"] = "1" };

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task AddStream_WithoutValidApiKey_Returns401(string? key)
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = QuietUrl }, key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("X-Api-Key", await response.Content.ReadAsStringAsync());
        Assert.Empty((await service.GetJsonAsync("/api/streams")).AsArray());
    }

    [Theory]
    [InlineData("file:///etc/passwd", "local")]
    [InlineData("/dev/video0", "local path")]
    [InlineData("lavfi:testsrc", "local")]
    [InlineData("concat:a.ts|b.ts", "local")]
    [InlineData("hls+file:///tmp/x.m3u8", "local")]
    [InlineData("gopher://example.com/x", "not allowed")]
    [InlineData("rtsp://", "host")]
    [InlineData("", "url is required")]
    [InlineData("http://example.com/a b", "spaces")]
    public async Task AddStream_DisallowedUrl_Returns400WithReason(string url, string reason)
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(reason, JsonNode.Parse(text)!["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"url":"URL","detectors":["video.blurry"]}""", "video.blurry")]
    [InlineData("""{"url":"URL","thresholds":{"video.black.min_duration":-1}}""", "video.black.min_duration")]
    [InlineData("""{"url":"URL","thresholds":{"video.black.no_such_option":1}}""", "no_such_option")]
    [InlineData("""{"url":"URL","thresholds":{"video.black.min_duration":"soon"}}""", "soon")]
    [InlineData("""{"url":"URL","thresholds":{"video.black.min_duration":[1]}}""", "thresholds.video.black.min_duration")]
    [InlineData("""{"url":"URL","masks":["0.5,0.5,2,0.1"]}""", "mask")]
    [InlineData("""{"url":"URL","colour":"red"}""", "colour")]
    [InlineData("""{"url":"URL","id":"Bad Id!"}""", "id must be")]
    [InlineData("""{"url": """, "invalid JSON")]
    public async Task AddStream_BadDefinition_Returns400NamingTheProblem(string body, string named)
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", body.Replace("URL", QuietUrl));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(named, JsonNode.Parse(text)!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task AddStream_NotJson_Returns415()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/streams") { Content = new StringContent("url=x") };
        request.Headers.Add("X-Api-Key", ServiceUnderTest.ApiKey);
        using var response = await service.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Streams_AddChangePauseResumeRemove_PersistAcrossRestart()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var id = await service.AddStreamAsync(new
        {
            id = "cam-1",
            name = "Camera one",
            url = QuietUrl,
            detectors = new[] { "video" },
            thresholds = new Dictionary<string, object> { ["video.black.min_duration"] = 0.5 },
            masks = new[] { "0.8,0,0.2,0.2" },
        });
        Assert.Equal("cam-1", id);
        using (var duplicate = await service.SendAsync(HttpMethod.Post, "/api/streams", new { id, url = QuietUrl }))
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        using (var change = await service.SendAsync(HttpMethod.Patch, $"/api/streams/{id}",
                   new { name = "Camera 1", thresholds = new Dictionary<string, object> { ["video.freeze.min_duration"] = "3" } }))
        {
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
            var changed = JsonNode.Parse(await change.Content.ReadAsStringAsync())!;
            Assert.Equal("Camera 1", changed["name"]!.GetValue<string>());
            Assert.Equal("3", changed["thresholds"]!["video.freeze.min_duration"]!.GetValue<string>());
            Assert.Null(changed["thresholds"]!["video.black.min_duration"]); // thresholds are replaced as a whole
            Assert.Equal(QuietUrl, changed["url"]!.GetValue<string>());
        }
        using (var pause = await service.SendAsync(HttpMethod.Post, $"/api/streams/{id}/pause"))
            Assert.Equal("paused", JsonNode.Parse(await pause.Content.ReadAsStringAsync())!["status"]!["state"]!.GetValue<string>());

        await service.RestartAsync();

        var stored = await service.GetJsonAsync($"/api/streams/{id}");
        Assert.Equal("Camera 1", stored["name"]!.GetValue<string>());
        Assert.True(stored["paused"]!.GetValue<bool>());
        Assert.Equal("paused", stored["status"]!["state"]!.GetValue<string>());
        Assert.Equal("video", stored["detectors"]![0]!.GetValue<string>());
        Assert.Equal("0.8,0,0.2,0.2", stored["masks"]![0]!.GetValue<string>());

        using (var resume = await service.SendAsync(HttpMethod.Post, $"/api/streams/{id}/resume"))
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        var resumed = await service.GetJsonAsync($"/api/streams/{id}");
        Assert.False(resumed["paused"]!.GetValue<bool>());
        Assert.NotEqual("paused", resumed["status"]!["state"]!.GetValue<string>());
        Assert.Single((await service.GetJsonAsync("/api/streams")).AsArray());

        using (var remove = await service.SendAsync(HttpMethod.Delete, $"/api/streams/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        using (var gone = await service.Http.GetAsync($"/api/streams/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var again = await service.SendAsync(HttpMethod.Delete, $"/api/streams/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using (var patchGone = await service.SendAsync(HttpMethod.Patch, $"/api/streams/{id}", new { name = "x" }))
            Assert.Equal(HttpStatusCode.NotFound, patchGone.StatusCode);
    }

    [Fact]
    public async Task ConfigFile_KeysAndSchemes_TakeEffect()
    {
        var config = Path.Combine(Path.GetTempPath(), $"vigil-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "ApiKeys": ["key-from-file"], "AllowedSchemes": ["srt"], "OpenTimeoutSeconds": 1 }""");
        try
        {
            await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["ApiKeys:0"] = null }, configFile: config);
            using (var oldKey = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "srt://127.0.0.1:9" }))
                Assert.Equal(HttpStatusCode.Unauthorized, oldKey.StatusCode);
            using (var http = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = QuietUrl }, "key-from-file"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, http.StatusCode);
                Assert.Contains("allowed: srt", await http.Content.ReadAsStringAsync());
            }
            using (var srt = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "srt://127.0.0.1:9" }, "key-from-file"))
                Assert.Equal(HttpStatusCode.Created, srt.StatusCode);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Webhooks_BadUrlOrNoKey_Rejected()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using (var bad = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = "ftp://127.0.0.1/x" }))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var noKey = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = "http://127.0.0.1:9/x" }, key: null))
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using (var list = await service.Anonymous.GetAsync("/api/webhooks"))
            Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
    }

    [Fact]
    public async Task Operations_OpenApiMetricsHealth_DescribeTheService()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        await service.AddStreamAsync(new { id = "quiet", url = QuietUrl });

        var openApi = await service.GetJsonAsync("/openapi/v1.json");
        Assert.NotNull(openApi["paths"]!["/api/streams"]!["post"]);
        Assert.NotNull(openApi["paths"]!["/api/events/live"]);

        var metrics = await service.Http.GetStringAsync("/metrics");
        Assert.Contains("vigil_stream_state{stream=\"quiet\"", metrics);
        Assert.Contains("vigil_stream_frames_shed_total{stream=\"quiet\"", metrics);
        Assert.Matches(@"process_cpu_seconds_total [0-9.]+", metrics);
        Assert.Matches(@"process_resident_memory_bytes [1-9][0-9]*", metrics);

        var health = await service.GetJsonAsync("/healthz");
        Assert.Equal("ok", health["status"]!.GetValue<string>());
        Assert.Equal(1, health["streams"]!.GetValue<int>());

        var detectors = await service.GetJsonAsync("/api/detectors");
        Assert.Contains(detectors.AsArray(), d => d!["kind"]!.GetValue<string>() == "video.black");
    }
}

/// <summary>Service tests start processes and real-time media: run them one at a time so they do not starve each other on a small machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveServiceCollection
{
    public const string Name = "live service";
}
