using Microsoft.Playwright;

namespace Vigil.Tests.Dashboard.Support;

/// <summary>
/// One browser tab on the dashboard, signed in with a key (put in sessionStorage before the page's scripts
/// run, as the key dialog would), collecting every console error and uncaught exception, every request to
/// anywhere but the service (no CDN: the page is offline by construction) and every request whose URL holds
/// the key (it goes in a header, never in a URL), so that a test can require there were none.
/// Screenshots go to TestResults/dashboard.
/// </summary>
internal sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private DashboardPage(IBrowserContext context, IPage page, string baseUrl, string? key)
    {
        _context = context;
        Page = page;
        BaseUrl = baseUrl;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (_errors) _errors.Add($"console: {message.Text}");
        };
        page.PageError += (_, error) =>
        {
            lock (_errors) _errors.Add($"page error: {error}");
        };
        page.Request += (_, request) =>
        {
            var url = request.Url;
            var local = url.StartsWith(baseUrl + "/", StringComparison.Ordinal) || url.StartsWith("blob:" + baseUrl + "/", StringComparison.Ordinal)
                        || url.StartsWith("data:", StringComparison.Ordinal);
            if (!local) lock (_errors) _errors.Add($"request outside the service: {url}");
            if (key is not null && Uri.UnescapeDataString(url).Contains(key, StringComparison.Ordinal))
                lock (_errors) _errors.Add($"the key in a URL: {request.Method} {url.Replace(key, "KEY", StringComparison.Ordinal)}");
        };
    }

    public IPage Page { get; }

    public string BaseUrl { get; }

    public IReadOnlyList<string> Errors
    {
        get { lock (_errors) return _errors.ToList(); }
    }

    /// <param name="browser">The browser to open a fresh context (session) in.</param>
    /// <param name="baseUrl">The service, e.g. http://127.0.0.1:PORT.</param>
    /// <param name="key">The API key the session holds (null: none).</param>
    /// <param name="operator">The operator's name for acknowledgements.</param>
    /// <param name="width">Viewport width.</param>
    /// <param name="height">Viewport height.</param>
    /// <param name="path">Where to go first (the dashboard's routes are fragments: /#/manage).</param>
    /// <param name="initScript">Script run in the page before its own, e.g. to record what it does.</param>
    public static async Task<DashboardPage> OpenAsync(IBrowser browser, string baseUrl, string? key, string? @operator = "Test Operator",
        int width = 1280, int height = 800, string path = "/", string? initScript = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var init = key is null ? "" : $"sessionStorage.setItem('vigil.apiKey', {Js(key)});";
        if (@operator is not null) init += $"sessionStorage.setItem('vigil.operator', {Js(@operator)});";
        await context.AddInitScriptAsync(init + (initScript ?? ""));
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var dashboard = new DashboardPage(context, page, baseUrl, key);
        await page.GotoAsync(baseUrl + path);
        return dashboard;
    }

    /// <summary>Saves a full-page screenshot as TestResults/dashboard/NAME.png and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(Repository.Artifacts, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>Fails the test when the page logged any error, asked anything of another host, or put the key in a URL.</summary>
    public void AssertNoErrors() => Assert.True(Errors.Count == 0, "the page logged errors:\n" + string.Join("\n", Errors));

    private static string Js(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
