using System.Net;
using System.Text.Json.Nodes;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Service;

/// <summary>
/// The API the dashboard adds, over HTTP: the page itself (served without a key, with a content
/// security policy and ETags), what a key may do, thumbnails and loudness of a stream, alarms with
/// acknowledgement. Streams here point at nothing (port 1), so no media is needed.
/// </summary>
public sealed class DashboardApiTests
{
    private static readonly Dictionary<string, string?> QuickOpen = new() { ["OpenTimeoutSeconds"] = "1" };

    [Fact]
    public async Task Page_ServedWithoutKey_WithCspAndRevalidation_UnknownFiles404()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using var page = await service.Anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/dashboard/app.js", await page.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());

        using var script = await service.Anonymous.GetAsync("/dashboard/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        var etag = script.Headers.ETag!.Tag;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/app.js");
        again.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using (var notModified = await service.Anonymous.SendAsync(again))
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        // the plotting library comes from npm through the build, not from a CDN
        using (var uplot = await service.Anonymous.GetAsync("/dashboard/vendor/uPlot.esm.js"))
            Assert.Contains("uPlot", await uplot.Content.ReadAsStringAsync());
        using (var missing = await service.Anonymous.GetAsync("/dashboard/nope.js"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var api = await service.Anonymous.GetAsync("/api/streams"))
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode); // the page is open, the data is not
    }

    [Theory]
    [InlineData(null, "none", false)]
    [InlineData("not-a-key", "none", true)]
    [InlineData(ServiceUnderTest.ReadKey, "read", false)]
    [InlineData(ServiceUnderTest.ApiKey, "admin", false)]
    public async Task Access_TellsWhatTheKeyMayDo_NeverAn401(string? key, string access, bool rejected)
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using var response = await service.SendAsync(HttpMethod.Get, "/api/access", key: key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(access, body["access"]!.GetValue<string>());
        Assert.Equal(rejected, body["key_rejected"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Access_OpenReads_NoKeyMayRead()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>(QuickOpen) { ["OpenReads"] = "true" });
        var body = JsonNode.Parse(await service.Anonymous.GetStringAsync("/api/access"))!;
        Assert.Equal("read", body["access"]!.GetValue<string>());
        Assert.True(body["open_reads"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ThumbnailAndLoudness_NoPicture204_UnknownStream404_BadRange400()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var id = await service.AddStreamAsync(new { name = "nothing there", url = "udp://127.0.0.1:1", paused = true });
        using (var none = await service.Http.GetAsync($"/api/streams/{id}/thumbnail"))
            Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);
        using (var unknown = await service.Http.GetAsync("/api/streams/nope/thumbnail"))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var loudness = await service.GetJsonAsync($"/api/streams/{id}/loudness?seconds=60");
        Assert.Equal(60, loudness["short_term"]!.AsArray().Count);
        Assert.All(loudness["true_peak"]!.AsArray(), v => Assert.Null(v));
        using (var bad = await service.Http.GetAsync($"/api/streams/{id}/loudness?seconds=0"))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var anonymous = await service.Anonymous.GetAsync($"/api/streams/{id}/thumbnail"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Alarms_AckNeedsAdminAndAName_UnknownEvent404_HistoryValidatesItsFilters()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var active = await service.GetJsonAsync("/api/alarms");
        Assert.Empty(active["alarms"]!.AsArray());
        Assert.Equal(0, active["last_event_id"]!.GetValue<long>());
        using (var unknown = await service.SendAsync(HttpMethod.Post, "/api/alarms/12345/ack", new { by = "Ada" }))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var nameless = await service.SendAsync(HttpMethod.Post, "/api/alarms/1/ack", new { by = " " }))
            Assert.Equal(HttpStatusCode.BadRequest, nameless.StatusCode);
        using (var read = await service.SendAsync(HttpMethod.Post, "/api/alarms/1/ack", new { by = "Ada" }, ServiceUnderTest.ReadKey))
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        foreach (var query in new[] { "kind=nonsense", "limit=0", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from=yesterday" })
        {
            using var bad = await service.Http.GetAsync($"/api/alarms/history?{query}");
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)bad.StatusCode}");
        }
        var history = await service.GetJsonAsync("/api/alarms/history?kind=video&from=2026-01-01T00:00:00Z");
        Assert.Empty(history["alarms"]!.AsArray());
    }
}
