using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Vigil.Tests.Cluster.Support;
using Vigil.Tests.Dashboard.Support;
using Vigil.Tests.Service.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Cluster;

/// <summary>
/// The dashboard on any node of a fleet: a stream's video group runs on one node and its audio group on
/// another, so neither node alone has both its picture and its loudness. Each node's API (and its page, in
/// chromium) shows both: the picture and the loudness history are asked of the node running that group
/// (Akka), the meters come with the audio group's heartbeat, the acknowledgement is in the shared store.
/// </summary>
[Collection("postgres")]
public sealed class FleetDashboardTests(PostgresFixture pg, ITestOutputHelper output)
{
    [Fact]
    public async Task Fleet_VideoAndAudioGroupsOnTwoNodes_EachNodeShowsPictureLoudnessAndAcks()
    {
        var db = pg.NewDatabase("fleetdash");
        var port = Net.FreeUdpPort();
        await using var sender = FfmpegLive.UdpBroadcast(port, new FfmpegLive.Pattern(DashboardFixture.BlackPeriod, Black: DashboardFixture.Black));
        await using var video = FleetNode.Start(db, "video", null);
        await video.WaitUpAsync();
        await using var audio = FleetNode.Start(db, "audio+av.sync", video.ClusterPort);
        await audio.WaitUpAsync();
        var id = await audio.AddStreamAsync(new { id = "cam", url = $"udp://127.0.0.1:{port}?reuse=1", detectors = new[] { "video.black", "audio.silence" },
            thresholds = new Dictionary<string, object> { ["video.black.min_duration"] = 0.5 } });
        await Net.WaitUntilAsync(async () => (await video.LocalAsync()).Any(l => l.Stream == id && l.State == "running")
                                             && (await audio.LocalAsync()).Any(l => l.Stream == id && l.State == "running"), 60,
            "the video group on the video node and the audio group on the audio node");

        // the audio node has no picture of its own: it asks the video node
        await Net.WaitUntilAsync(async () =>
        {
            using var response = await audio.Http.GetAsync($"/api/streams/{id}/thumbnail");
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var jpeg = await response.Content.ReadAsByteArrayAsync();
            return response.Content.Headers.ContentType?.MediaType == "image/jpeg" && jpeg.Length > 100 && jpeg[0] == 0xFF && jpeg[1] == 0xD8;
        }, 30, "a thumbnail from the audio node");
        // the video node measures no audio: it asks the audio node for the loudness, and the meters come with its heartbeat
        await Net.WaitUntilAsync(async () =>
        {
            var loudness = JsonNode.Parse(await video.Http.GetStringAsync($"/api/streams/{id}/loudness?seconds=30"))!;
            return loudness["short_term"]!.AsArray().Any(v => v is not null && v.GetValue<double>() < 0);
        }, 30, "loudness on the video node");
        await Net.WaitUntilAsync(async () =>
            JsonNode.Parse(await video.Http.GetStringAsync($"/api/streams/{id}"))!["status"]!["meters"]?["short_term"] is not null, 30,
            "meters in the stream's status on the video node");

        // the page of the audio node: the tile has the picture and the loudness; an alarm acknowledged there is acknowledged on the video node
        var (playwright, browser) = await Chromium.LaunchAsync();
        try
        {
            var baseUrl = audio.Http.BaseAddress!.ToString().TrimEnd('/');
            await using var page = await DashboardPage.OpenAsync(browser, baseUrl, FleetNode.ApiKey, @operator: "Ada");
            var tile = page.Page.Locator($".tile[data-id='{id}']");
            await Assertions.Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 30_000 });
            await Assertions.Expect(tile.Locator(".meter .value")).ToContainTextAsync("LUFS", new() { Timeout = 15_000 });

            await page.Page.GotoAsync($"{baseUrl}/#/alarms");
            var row = page.Page.Locator("table.active tbody tr[data-kind='video.black']");
            await row.WaitForAsync(new() { Timeout = (float)(3 * DashboardFixture.BlackPeriod * 1000) });
            var eventId = long.Parse((await row.GetAttributeAsync("data-id"))!, System.Globalization.CultureInfo.InvariantCulture);
            await row.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
            await Assertions.Expect(page.Page.Locator($"table.active tbody tr[data-id='{eventId}'] .acked")).ToContainTextAsync("Ada");
            output.WriteLine($"screenshot: {await page.ScreenshotAsync("fleet-audio-node")}");
            page.AssertNoErrors();

            await Net.WaitUntilAsync(async () =>
            {
                var alarms = JsonNode.Parse(await video.Http.GetStringAsync("/api/alarms"))!["alarms"]!.AsArray();
                var history = JsonNode.Parse(await video.Http.GetStringAsync($"/api/alarms/history?stream={id}&kind=video.black"))!["alarms"]!.AsArray();
                return alarms.Concat(history).Any(a => a!["ack"]?["by"]?.GetValue<string>() == "Ada");
            }, 20, "the acknowledgement on the video node (the shared store)");
        }
        finally
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }
}
