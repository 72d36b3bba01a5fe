using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Vigil.Tests.Dashboard.Support;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Dashboard;

/// <summary>
/// Accessibility, judged by axe-core (Deque's rules engine, run inside the page) against WCAG 2.1 A and AA:
/// names and labels, roles, contrast of text against its background, keyboard access. Every view with live
/// data in it, with an admin key and a read key (whose controls are disabled), and the key dialog.
/// </summary>
public sealed partial class DashboardTests
{
    private static readonly AxeRunOptions Wcag = new()
    {
        RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    };

    [Fact]
    public async Task EveryView_NoWcagViolations_ByAxe()
    {
        await using var page = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ApiKey);
        var problems = new List<string>();

        await Assertions.Expect(page.Page.Locator($".tile[data-id='{fixture.West}']")).ToHaveClassAsync(
            new System.Text.RegularExpressions.Regex("has-picture"), new() { Timeout = 20_000 });
        await Assertions.Expect(page.Page.Locator(".tile .meter .value").First).ToContainTextAsync("LUFS", new() { Timeout = 10_000 });
        problems.AddRange(await AxeAsync(page, "mosaic"));

        await page.Page.GotoAsync($"{fixture.BaseUrl}/#/alarms");
        await page.Page.Locator("table.history tbody tr").First.WaitForAsync();
        problems.AddRange(await AxeAsync(page, "alarms"));

        await page.Page.GotoAsync($"{fixture.BaseUrl}/#/stream/{fixture.North}");
        await Assertions.Expect(page.Page.Locator(".uplot")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Page.Locator(".stream-meters p")).ToContainTextAsync("LUFS", new() { Timeout = 15_000 });
        problems.AddRange(await AxeAsync(page, "stream page"));

        await page.Page.GotoAsync($"{fixture.BaseUrl}/#/manage");
        await page.Page.Locator("form.stream-form .checks input").First.WaitForAsync();
        await page.Page.Locator("table.streams tbody tr").First.WaitForAsync();
        problems.AddRange(await AxeAsync(page, "manage (admin)"));

        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Key…" }).ClickAsync();
        await Assertions.Expect(page.Page.Locator("#key-dialog")).ToBeVisibleAsync();
        problems.AddRange(await AxeAsync(page, "key dialog"));
        await page.Page.Keyboard.PressAsync("Escape");
        page.AssertNoErrors();

        await using var reader = await DashboardPage.OpenAsync(fixture.Browser, fixture.BaseUrl, ServiceUnderTest.ReadKey, path: "/#/manage");
        await reader.Page.Locator("form.stream-form .checks input").First.WaitForAsync();
        await Assertions.Expect(reader.Page.Locator(".notice")).ToBeVisibleAsync();
        problems.AddRange(await AxeAsync(reader, "manage (read key)"));
        reader.AssertNoErrors();

        Assert.True(problems.Count == 0, "axe found:\n" + string.Join("\n", problems));
    }

    /// <summary>axe's WCAG 2.1 A/AA violations on the page as it is now, one line per element.</summary>
    private async Task<List<string>> AxeAsync(DashboardPage page, string view)
    {
        var result = await page.Page.RunAxe(Wcag);
        output.WriteLine($"axe {view}: {result.Passes.Length} rules passed, {result.Violations.Length} violated, {result.Incomplete.Length} to review");
        return result.Violations
            .SelectMany(v => v.Nodes.Select(n => $"{view}: {v.Id} ({v.Impact}) {v.Help}: {n.Target} {n.Html}: {string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message))}"))
            .ToList();
    }
}
