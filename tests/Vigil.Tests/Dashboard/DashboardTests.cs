using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Vigil.Tests.Dashboard.Support;
using Vigil.Tests.Service;
using Vigil.Tests.Service.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's chromium through Playwright) against vigil serve with three
/// live UDP streams: tiles and thumbnails, the alarm frame following the SSE feed, adding a stream
/// through the form, a read key that can change nothing, the stream page by keyboard, acknowledging an
/// alarm. Every test also requires that the page logged no error. Screenshots: TestResults/dashboard.
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed partial class DashboardTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    // records every change of a tile's state with the wall clock, as the page makes it
    private const string TileLog = """
        window.__tileLog = [];
        new MutationObserver(changes => {
          for (const c of changes)
            if (c.target.classList?.contains('tile'))
              window.__tileLog.push({ id: c.target.dataset.id, state: c.target.dataset.state, at: Date.now() });
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
        """;

    [Fact]
    public async Task Mosaic_ThreeLiveStreams_TilesWithLiveThumbnailsStatesAndMeters()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey);
        foreach (var id in new[] { fixture.North, fixture.East, fixture.West })
        {
            var tile = page.Page.Locator($".tile[data-id='{id}']");
            await Assertions.Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 20_000 });
            Assert.True(await tile.Locator("img").EvaluateAsync<int>("img => img.naturalWidth") > 0, $"{id}: the thumbnail decoded");
            // state as icon and text, and the loudness meter with its value
            Assert.Equal(1, await tile.Locator(".state .icon svg").CountAsync());
            Assert.False(string.IsNullOrWhiteSpace(await tile.Locator(".state-text").TextContentAsync()));
            await Assertions.Expect(tile.Locator(".meter .value")).ToContainTextAsync("LUFS", new() { Timeout = 10_000 });
        }

        // the picture is live: a later thumbnail of the same tile is another JPEG
        var north = page.Page.Locator($".tile[data-id='{fixture.North}'] img");
        var first = await north.GetAttributeAsync("src");
        await page.Page.WaitForFunctionAsync("([id, src]) => document.querySelector(`.tile[data-id='${id}'] img`).src !== src",
            new object[] { fixture.North, first! }, new() { Timeout = 10_000 });

        output.WriteLine($"screenshot: {await page.ScreenshotAsync("mosaic")}");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task BlackOnOneStream_TileAlarmsWithin2sOfSseDefectStart_AndReturnsWithin2sOfItsEnd()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey, initScript: TileLog);
        var tile = page.Page.Locator($".tile[data-id='{fixture.East}']");
        await Assertions.Expect(tile).ToHaveAttributeAsync("data-state", "ok", new() { Timeout = 30_000 });
        var okSince = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var sse = SseListener.Open(fixture.Service.Http, $"/api/events/live?stream={fixture.East}&kind=video.black");

        var start = await sse.WaitForAsync(e => e.Type == "defect_start", 3 * DashboardFixture.BlackPeriod, "video.black defect_start on east");
        var startAt = sse.ReceivedAt(start.Id).ToUnixTimeMilliseconds();
        var alarmAt = await TileChangeAsync(page, fixture.East, "alarm", okSince);
        output.WriteLine($"defect_start received {startAt}, tile in alarm {alarmAt} ({alarmAt - startAt} ms)");
        Assert.InRange(alarmAt - startAt, -2000, 2000);
        await Assertions.Expect(tile.Locator(".state-text")).ToContainTextAsync("video.black");
        Assert.Equal(1, await tile.Locator(".state .icon-alarm").CountAsync());
        output.WriteLine($"screenshot: {await page.ScreenshotAsync("mosaic-alarm")}");

        // its own defect (same identity) ends it
        var end = await sse.WaitForAsync(e => e.Type == "defect" && e.Data["start"]!.GetValue<double>() == start.Data["start"]!.GetValue<double>(),
            20, "the video.black defect that ends it");
        var endAt = sse.ReceivedAt(end.Id).ToUnixTimeMilliseconds();
        var okAt = await TileChangeAsync(page, fixture.East, "ok", alarmAt);
        output.WriteLine($"defect received {endAt}, tile ok again {okAt} ({okAt - endAt} ms)");
        Assert.InRange(okAt - endAt, -2000, 2000);
        page.AssertNoErrors();
    }

    [Fact]
    public async Task DefectIdentity_TwoChannelsOfOneStream_AreTwoAlarms()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey);
        await page.Page.Locator(".tile").First.WaitForAsync();
        // the page's own identity function: kind alone (or kind and start) would make these one alarm
        var keys = await page.Page.EvaluateAsync<string[]>("""
            async () => {
              const { defectKey } = await import('/dashboard/format.js');
              const e = { stream_id: 's', kind: 'audio.silence', start: 12.5 };
              return [defectKey({ ...e, details: { channel: 0 } }), defectKey({ ...e, details: { channel: 1 } }),
                      defectKey({ ...e, details: { channel: 1 }, end: 14 }), defectKey({ ...e, program: 2, details: { channel: 1 } })];
            }
            """);
        Assert.NotEqual(keys[0], keys[1]);
        Assert.Equal(keys[1], keys[2]);   // a defect's end matches its start
        Assert.NotEqual(keys[1], keys[3]); // another programme of the multiplex
        page.AssertNoErrors();
    }

    [Fact]
    public async Task AddForm_NewUdpStream_StartsAndGetsItsTile()
    {
        var port = fixture.StartSender(new FfmpegLive.Pattern(Period: 60));
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey, path: "/#/manage");
        var form = page.Page.Locator("form.stream-form");
        await form.GetByLabel("Name").FillAsync("Added in the browser");
        await form.GetByLabel("URL").FillAsync($"udp://127.0.0.1:{port}");
        await form.GetByLabel("video.black").CheckAsync();
        await form.GetByLabel("audio.silence").CheckAsync();
        await form.GetByLabel("Thresholds").FillAsync("video.black.min_duration=2");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add stream" }).ClickAsync();
        var row = page.Page.Locator("table.streams tr", new() { HasText = "Added in the browser" });
        await row.WaitForAsync();
        var id = await row.GetAttributeAsync("data-id");
        try
        {
            var stream = await fixture.StreamAsync(id!);
            Assert.Equal(["video.black", "audio.silence"], stream["detectors"]!.AsArray().Select(d => d!.GetValue<string>()));
            Assert.Equal("2", stream["thresholds"]!["video.black.min_duration"]!.GetValue<string>());

            await page.Page.GetByRole(AriaRole.Link, new() { Name = "Streams", Exact = true }).ClickAsync();
            var tile = page.Page.Locator($".tile[data-id='{id}']");
            await Assertions.Expect(tile).ToHaveAttributeAsync("data-state", "ok", new() { Timeout = 30_000 });
            await Assertions.Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 20_000 });
            Assert.Equal("running", (await fixture.StreamAsync(id!))["status"]!["state"]!.GetValue<string>());
            page.AssertNoErrors();
        }
        finally
        {
            using var _ = await fixture.Service.SendAsync(HttpMethod.Delete, $"/api/streams/{id}");
        }
    }

    [Fact]
    public async Task ReadKey_SeesEverythingItMayRead_AndChangesNothing()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ReadKey);
        await Assertions.Expect(page.Page.Locator("#who")).ToContainTextAsync("read-only");
        await Assertions.Expect(page.Page.Locator($".tile[data-id='{fixture.West}']")).ToHaveClassAsync(
            new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 20_000 });

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Manage", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Page.Locator(".notice")).ToBeVisibleAsync();
        var rows = page.Page.Locator("table.streams tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3, new() { Timeout = 10_000 });
        var buttons = page.Page.Locator("table.streams button");
        Assert.True(await buttons.CountAsync() >= 9);
        foreach (var button in await buttons.AllAsync()) Assert.True(await button.IsDisabledAsync(), $"{await button.TextContentAsync()} is disabled");
        // every control of both forms (inside their disabled fieldsets)
        var controls = page.Page.Locator("form.stream-form :is(input, textarea, button), form.webhook-form :is(input, button)");
        Assert.True(await controls.CountAsync() >= 8);
        foreach (var control in await controls.AllAsync()) Assert.True(await control.IsDisabledAsync(), $"{await control.EvaluateAsync<string>("e => e.outerHTML")} is disabled");
        // the URL's query values are redacted for a read key
        Assert.DoesNotContain("overrun_nonfatal=1", await page.Page.Locator("table.streams").InnerTextAsync());
        output.WriteLine($"screenshot: {await page.ScreenshotAsync("manage-read-only")}");

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Alarms" }).ClickAsync();
        await page.Page.Locator("table.history tbody tr").First.WaitForAsync();
        foreach (var ack in await page.Page.Locator("button.ack").AllAsync()) Assert.True(await ack.IsDisabledAsync());
        page.AssertNoErrors();

        // and the service refuses whatever the page would not offer
        var before = await fixture.Service.EventsAsync();
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/api/streams", new { name = "x", url = "udp://127.0.0.1:9" }),
            (HttpMethod.Patch, $"/api/streams/{fixture.North}", new { name = "renamed" }),
            (HttpMethod.Post, $"/api/streams/{fixture.North}/pause", null),
            (HttpMethod.Delete, $"/api/streams/{fixture.North}", null),
            (HttpMethod.Post, "/api/webhooks", new { url = "http://127.0.0.1:9/hook" }),
            (HttpMethod.Post, $"/api/alarms/{before.Last()["id"]}/ack", new { by = "someone" }),
        })
        {
            using var response = await fixture.Service.SendAsync(method, path, body, ServiceUnderTest.ReadKey);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with a read key: {(int)response.StatusCode}");
        }
        Assert.Equal("North", (await fixture.StreamAsync(fixture.North))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keyboard_EnterOnTile_OpensStreamPageWithPlotsSnapshotsAndMasks()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey);
        await page.Page.Locator($".tile[data-id='{fixture.North}']").WaitForAsync();
        // Tab from the top of the page to the first tile (North, the first stream), bounded
        for (var i = 0; i < 20 && !await page.Page.EvaluateAsync<bool>("() => document.activeElement?.classList.contains('tile')"); i++)
            await page.Page.Keyboard.PressAsync("Tab");
        Assert.Equal(fixture.North, await page.Page.EvaluateAsync<string>("() => document.activeElement.dataset.id"));
        await page.Page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal(fixture.East, await page.Page.EvaluateAsync<string>("() => document.activeElement.dataset.id"));
        await page.Page.Keyboard.PressAsync("ArrowLeft");
        await page.Page.Keyboard.PressAsync("Enter");

        await page.Page.WaitForURLAsync($"**/#/stream/{fixture.North}");
        await Assertions.Expect(page.Page.Locator("h1")).ToHaveTextAsync("North");
        await Assertions.Expect(page.Page.Locator(".uplot")).ToHaveCountAsync(3); // timeline, loudness, fps and lag
        // the mask is drawn over the picture where it is (x, y, w, h as fractions)
        var mask = page.Page.Locator(".picture .mask");
        await Assertions.Expect(mask).ToHaveCountAsync(1);
        var (picture, box) = (await page.Page.Locator("figure.live .picture").BoundingBoxAsync(), await mask.BoundingBoxAsync());
        Assert.InRange((box!.X - picture!.X) / picture.Width, 0.78, 0.82);
        Assert.InRange(box.Width / picture.Width, 0.13, 0.17);
        // loudness of the last seconds arrives in the plot (the tone measures about −21.8 LUFS short-term)
        await page.Page.WaitForFunctionAsync("() => [...document.querySelectorAll('.stream-meters p')].some(p => /Short-term −\\d/.test(p.textContent))",
            null, new() { Timeout = 15_000 });
        await Assertions.Expect(page.Page.Locator(".settings")).ToContainTextAsync(DashboardFixture.NorthMask);
        output.WriteLine($"screenshot: {await page.ScreenshotAsync("stream-page")}");
        page.AssertNoErrors();
    }

    [Fact]
    public async Task Alarms_AcknowledgeOpenBlack_StoredWithWhoAndWhen_AndHistoryFilters()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey, @operator: "Ada", path: "/#/alarms");
        var row = page.Page.Locator("table.active tbody tr[data-kind='video.black']");
        await row.WaitForAsync(new() { Timeout = (float)(3 * DashboardFixture.BlackPeriod * 1000) });
        var eventId = long.Parse((await row.GetAttributeAsync("data-id"))!);
        await row.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Assertions.Expect(page.Page.Locator($"table.active tbody tr[data-id='{eventId}'] .acked")).ToContainTextAsync("Ada");

        var stored = (await fixture.Service.GetJsonAsync("/api/alarms"))["alarms"]!.AsArray()
            .Single(a => a!["event"]!["id"]!.GetValue<long>() == eventId)!["ack"]!;
        Assert.Equal("Ada", stored["by"]!.GetValue<string>());
        Assert.Equal("admin-0", stored["key_id"]!.GetValue<string>());
        Assert.InRange(DateTimeOffset.Parse(stored["at"]!.GetValue<string>()), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        output.WriteLine($"screenshot: {await page.ScreenshotAsync("alarms")}");

        // once it ends it is history, still acknowledged
        var history = page.Page.Locator($"table.history tbody tr[data-id]");
        await page.Page.Locator("#f-stream").SelectOptionAsync(fixture.East);
        await page.Page.Locator("#f-kind").SelectOptionAsync("video.black");
        await Net.WaitUntilAsync(async () =>
        {
            await page.Page.RunAndWaitForResponseAsync(() => page.Page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync(),
                response => response.Url.Contains("/api/alarms/history"));
            return await page.Page.Locator("table.history tbody tr .acked", new() { HasText = "Ada" }).CountAsync() > 0;
        }, 2 * DashboardFixture.BlackPeriod, "the acknowledged defect in the history");
        foreach (var kind in await history.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.kind)")) Assert.Equal("video.black", kind);

        // a range before anything happened matches nothing
        await page.Page.Locator("#f-from").FillAsync("2001-01-01T00:00");
        await page.Page.Locator("#f-to").FillAsync("2001-01-02T00:00");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Assertions.Expect(page.Page.Locator("table.history tbody")).ToContainTextAsync("No ended alarms match");
        page.AssertNoErrors();
    }

    /// <summary>When the page first put the tile of <paramref name="id"/> into <paramref name="state"/> after <paramref name="after"/> (ms).</summary>
    private static async Task<long> TileChangeAsync(DashboardPage page, string id, string state, long after)
    {
        long at = 0;
        await Net.WaitUntilAsync(async () =>
        {
            at = await page.Page.EvaluateAsync<long>(
                "([id, state, after]) => window.__tileLog.find(e => e.id === id && e.state === state && e.at > after)?.at ?? 0",
                new object[] { id, state, after });
            return at > 0;
        }, 20, $"the {id} tile to turn {state}");
        return at;
    }
}
