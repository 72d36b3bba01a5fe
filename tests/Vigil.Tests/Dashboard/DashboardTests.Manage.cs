using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Vigil.Tests.Dashboard.Support;
using Vigil.Tests.Service;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Dashboard;

/// <summary>Manage: every change the forms and buttons offer, checked against what the service then holds.</summary>
public sealed partial class DashboardTests
{
    [Fact]
    public async Task Manage_EditPauseResumeRemoveStream_AndAddRemoveWebhook_ThroughThePage()
    {
        var port = fixture.StartSender(new FfmpegLive.Pattern(Period: 60));
        var id = await fixture.Service.AddStreamAsync(new { name = "Managed", url = $"udp://127.0.0.1:{port}" });
        try
        {
            await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey, path: "/#/manage");
            var row = page.Page.Locator($"table.streams tr[data-id='{id}']");
            await Assertions.Expect(row).ToContainTextAsync("running", new() { Timeout = 30_000 });

            // edit: name, detectors, a threshold and a mask; the URL stays as it was
            await row.GetByRole(AriaRole.Button, new() { Name = "Edit Managed" }).ClickAsync();
            var form = page.Page.Locator("form.stream-form");
            await Assertions.Expect(form.GetByLabel("Name")).ToBeFocusedAsync();
            await form.GetByLabel("Name").FillAsync("Managed, renamed");
            await form.GetByLabel("video.freeze").CheckAsync();
            await form.GetByLabel("Thresholds").FillAsync("video.freeze.min_duration=3");
            await form.GetByLabel("Masks").FillAsync("0.1,0.1,0.2,0.2");
            await form.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("Managed, renamed");
            var stream = await fixture.StreamAsync(id);
            Assert.Equal("Managed, renamed", stream["name"]!.GetValue<string>());
            Assert.Equal($"udp://127.0.0.1:{port}", stream["url"]!.GetValue<string>());
            Assert.Equal(["video.freeze"], stream["detectors"]!.AsArray().Select(d => d!.GetValue<string>()));
            Assert.Equal("3", stream["thresholds"]!["video.freeze.min_duration"]!.GetValue<string>());
            Assert.Equal(["0.1,0.1,0.2,0.2"], stream["masks"]!.AsArray().Select(m => m!.GetValue<string>()));

            // pause, then the tile says so (icon and text); resume, and it runs again
            await row.GetByRole(AriaRole.Button, new() { Name = "Pause Managed, renamed" }).ClickAsync();
            await Net.WaitUntilAsync(async () => (await fixture.StreamAsync(id))["paused"]!.GetValue<bool>(), 10, "the stream to be paused");
            await Assertions.Expect(row).ToContainTextAsync("paused");
            await page.Page.GetByRole(AriaRole.Link, new() { Name = "Streams", Exact = true }).ClickAsync();
            var tile = page.Page.Locator($".tile[data-id='{id}']");
            await Assertions.Expect(tile).ToHaveAttributeAsync("data-state", "paused");
            await Assertions.Expect(tile.Locator(".state-text")).ToHaveTextAsync("paused");
            Assert.Equal(1, await tile.Locator(".state .icon-paused").CountAsync());
            await page.Page.GetByRole(AriaRole.Link, new() { Name = "Manage", Exact = true }).ClickAsync();
            await row.GetByRole(AriaRole.Button, new() { Name = "Resume Managed, renamed" }).ClickAsync();
            await Net.WaitUntilAsync(async () =>
            {
                var s = await fixture.StreamAsync(id);
                return !s["paused"]!.GetValue<bool>() && s["status"]!["state"]!.GetValue<string>() == "running";
            }, 30, "the stream to run again");

            // a webhook: added through its form, listed, removed (asked twice)
            var hookUrl = $"http://127.0.0.1:{Net.FreeTcpPort()}/managed-hook";
            var hookForm = page.Page.Locator("form.webhook-form");
            await hookForm.GetByLabel("URL").FillAsync(hookUrl);
            await hookForm.GetByLabel("Secret").FillAsync("a-secret-of-sixteen-chars");
            await hookForm.GetByLabel("Streams").FillAsync(id);
            await hookForm.GetByLabel("Kinds").FillAsync("video, audio.silence");
            await hookForm.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
            var hookRow = page.Page.Locator("table.webhooks tbody tr", new() { HasText = hookUrl });
            await Assertions.Expect(hookRow).ToContainTextAsync("yes"); // signed
            var hook = (await WebhooksAsync()).Single(w => w!["url"]!.GetValue<string>() == hookUrl)!;
            Assert.Equal([id], hook["streams"]!.AsArray().Select(s => s!.GetValue<string>()));
            Assert.Equal(["video", "audio.silence"], hook["kinds"]!.AsArray().Select(k => k!.GetValue<string>()));
            Assert.DoesNotContain("a-secret-of-sixteen-chars", await page.Page.Locator("table.webhooks").InnerTextAsync());
            var removeHook = hookRow.GetByRole(AriaRole.Button, new() { Name = $"Remove webhook {hookUrl}" });
            await removeHook.ClickAsync();
            await Assertions.Expect(removeHook).ToHaveTextAsync("Confirm remove");
            await removeHook.ClickAsync();
            await Assertions.Expect(hookRow).ToHaveCountAsync(0);
            Assert.DoesNotContain((await WebhooksAsync()),
                w => w!["url"]!.GetValue<string>() == hookUrl);

            // remove the stream: the first click only asks
            var remove = row.GetByRole(AriaRole.Button, new() { Name = "Remove Managed, renamed" });
            await remove.ClickAsync();
            await Assertions.Expect(remove).ToHaveTextAsync("Confirm remove");
            Assert.Equal(HttpStatusCode.OK, (await fixture.Service.Http.GetAsync($"/api/streams/{id}")).StatusCode);
            await remove.ClickAsync();
            await Assertions.Expect(row).ToHaveCountAsync(0);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Service.Http.GetAsync($"/api/streams/{id}")).StatusCode);
            output.WriteLine($"screenshot: {await page.ScreenshotAsync("manage")}");
            page.AssertNoErrors();
        }
        finally
        {
            using var _ = await fixture.Service.SendAsync(HttpMethod.Delete, $"/api/streams/{id}");
        }
    }

    /// <summary>The webhooks as an admin key lists them (with their URLs).</summary>
    private async Task<JsonArray> WebhooksAsync()
    {
        using var response = await fixture.Service.SendAsync(HttpMethod.Get, "/api/webhooks");
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    [Fact]
    public async Task Mosaic_OnlyTilesOnScreenFetchThumbnails_AndAScrolledToTileGetsItsPicture()
    {
        // one column of tiles in a small window: the last of the three is below the fold
        var thumbnails = new List<string>();
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ReadKey, width: 400, height: 420,
            initScript: "localStorage.setItem('vigil.tileSize', 'm');");
        page.Page.Request += (_, r) => { if (r.Url.Contains("/thumbnail", StringComparison.Ordinal)) lock (thumbnails) thumbnails.Add(r.Url); };
        await page.Page.Locator(".tile").Nth(2).WaitForAsync();
        var below = await page.Page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('.tile')].filter(t => t.getBoundingClientRect().top > innerHeight + 100).map(t => t.dataset.id)");
        Assert.NotEmpty(below);
        int Requests(string id)
        {
            lock (thumbnails) return thumbnails.Count(u => u.Contains($"/api/streams/{id}/thumbnail", StringComparison.Ordinal));
        }
        // the first tile's picture is refreshed several times (one request per 1.5 s) while those below are never asked for
        await Net.WaitUntilAsync(() => Task.FromResult(Requests(fixture.North) >= 3), 30, "three thumbnails of the tile on screen");
        foreach (var id in below) Assert.Equal(0, Requests(id));

        await page.Page.Locator($".tile[data-id='{below[^1]}']").ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(page.Page.Locator($".tile[data-id='{below[^1]}']")).ToHaveClassAsync(
            new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 20_000 });
        Assert.True(Requests(below[^1]) > 0);
        page.AssertNoErrors();
    }
}
