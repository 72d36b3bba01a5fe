using System.Diagnostics;
using Microsoft.Playwright;

namespace Vigil.Tests.Dashboard.Support;

/// <summary>
/// Debian's chromium driven by Playwright: never a browser Playwright downloads. scripts/test-setup.sh
/// installs the package when /usr/bin/chromium is missing (this runs it then).
/// </summary>
internal static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    ];

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(Executable))
        {
            using var setup = Process.Start(new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "test-setup.sh")]) { UseShellExecute = false })!;
            await setup.WaitForExitAsync();
            Assert.True(setup.ExitCode == 0 && File.Exists(Executable), $"scripts/test-setup.sh could not install chromium ({Executable})");
        }
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = Arguments,
            Timeout = 60_000,
        });
        return (playwright, browser);
    }
}

/// <summary>The repository's folders the tests write to.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    /// <summary>TestResults/dashboard: screenshots and figures of the dashboard tests (ignored by git).</summary>
    public static string Artifacts
    {
        get
        {
            var dir = Path.Combine(Root, "TestResults", "dashboard");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Vigil.slnx) not found");
    }
}
