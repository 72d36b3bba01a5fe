using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Vigil.Tests.Dashboard.Support;
using Vigil.Tests.Service;
using Vigil.Tests.Service.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Dashboard;

/// <summary>
/// The wall at scale: N live UDP streams (default 64; four ffmpeg encoders, each sending its picture to a
/// quarter of the ports) in vigil serve, and the mosaic in chromium at 1920×1080, measured with the
/// browser's performance APIs: frame intervals (requestAnimationFrame), long tasks, and the thumbnail
/// bytes and requests per second (Resource Timing). A measurement, not a check of speed: it runs only
/// when VIGIL_DASHBOARD_SCALE is set (scripts/bench-dashboard.sh) and writes
/// TestResults/dashboard/scale-N.json; it fails only if the wall never showed every stream.
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class DashboardScaleTests(ITestOutputHelper output)
{
    private const string Probe = """
        window.__frames = []; window.__longTasks = []; window.__thumbs = [];
        (function loop(t) { window.__frames.push(t); requestAnimationFrame(loop); })(performance.now());
        new PerformanceObserver(l => { for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
          .observe({ type: 'longtask', buffered: true });
        new PerformanceObserver(l => { for (const e of l.getEntries()) if (e.name.includes('/thumbnail'))
          window.__thumbs.push({ end: e.responseEnd, transfer: e.transferSize, body: e.encodedBodySize, status: e.responseStatus }); })
          .observe({ type: 'resource', buffered: true });
        """;

    [ScaleFact]
    public async Task Mosaic_ManyLiveStreams_FrameTimeAndThumbnailBytesPerSecond()
    {
        var count = int.Parse(Environment.GetEnvironmentVariable("VIGIL_DASHBOARD_SCALE")!, CultureInfo.InvariantCulture);
        var seconds = double.Parse(Environment.GetEnvironmentVariable("VIGIL_DASHBOARD_SECONDS") ?? "30", CultureInfo.InvariantCulture);
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Error" });
        var ports = Enumerable.Range(0, count).Select(_ => Net.FreeUdpPort()).ToArray();
        string[] pictures = ["testsrc2", "smptehdbars", "rgbtestsrc", "testsrc"];
        var senders = ports.Chunk((count + 3) / 4).Select((group, i) => TeeSender(pictures[i % pictures.Length], group)).ToList();
        try
        {
            for (var i = 0; i < count; i++)
                await service.AddStreamAsync(new { id = $"s{i:00}", name = $"Channel {i + 1}", url = $"udp://127.0.0.1:{ports[i]}" });
            // every stream has delivered pictures (on a loaded machine some may be reconnecting at any one moment)
            await Net.WaitUntilAsync(async () => (await service.GetJsonAsync("/api/streams")).AsArray()
                .Count(s => s!["status"]!["frames_analysed"]!.GetValue<long>() > 0) == count, 300, $"{count} streams to deliver pictures");

            var (playwright, browser) = await Chromium.LaunchAsync();
            var results = new List<object>();
            try
            {
                foreach (var size in new[] { "m", "s" })
                {
                    await using var page = await DashboardPage.OpenAsync(browser, service.Http.BaseAddress!.ToString().TrimEnd('/'), ServiceUnderTest.ReadKey,
                        width: 1920, height: 1080, initScript: $"localStorage.setItem('vigil.tileSize', '{size}');" + Probe);
                    var visible = await WaitForVisibleTilesWithPictures(page, count);
                    var cdp = await page.Page.Context.NewCDPSessionAsync(page.Page);
                    await cdp.SendAsync("Performance.enable");
                    var mainBefore = await MainThreadAsync(cdp);
                    var cpuBefore = ProcessTreeCpu("chromium");
                    var serviceBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    var from = await page.Page.EvaluateAsync<double>("() => performance.now()");
                    await Task.Delay(TimeSpan.FromSeconds(seconds));
                    var wall = clock.Elapsed.TotalSeconds;
                    var browserCores = (ProcessTreeCpu("chromium") - cpuBefore).TotalSeconds / wall;
                    var serviceCores = (Process.GetCurrentProcess().TotalProcessorTime - serviceBefore).TotalSeconds / wall;
                    var mainAfter = await MainThreadAsync(cdp);
                    var main = mainAfter.ToDictionary(kv => kv.Key, kv => Math.Round((kv.Value - mainBefore[kv.Key]) / wall, 4));
                    var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                    var figures = await page.Page.EvaluateAsync<JsonElement>("""
                        from => {
                          const now = performance.now(), span = (now - from) / 1000;
                          const frames = window.__frames.filter(t => t >= from);
                          const gaps = frames.slice(1).map((t, i) => t - frames[i]).sort((a, b) => a - b);
                          const q = p => gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))] : null;
                          const thumbs = window.__thumbs.filter(e => e.end >= from);
                          const long = window.__longTasks.filter(e => e.start >= from);
                          return {
                            seconds: span, frames: frames.length, fps: frames.length / span,
                            frame_ms_mean: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length),
                            frame_ms_p50: q(0.5), frame_ms_p95: q(0.95), frame_ms_p99: q(0.99), frame_ms_max: gaps.at(-1) ?? null,
                            frames_over_50ms: gaps.filter(g => g > 50).length,
                            long_tasks: long.length, long_task_ms: long.reduce((a, e) => a + e.duration, 0),
                            thumbnail_requests_per_s: thumbs.length / span,
                            thumbnail_pictures_per_s: thumbs.filter(e => e.body > 0).length / span,
                            thumbnail_bytes_per_s: thumbs.reduce((a, e) => a + e.transfer, 0) / span,
                            thumbnail_body_bytes_per_s: thumbs.reduce((a, e) => a + e.body, 0) / span,
                            mean_picture_bytes: thumbs.filter(e => e.body > 0).reduce((a, e) => a + e.body, 0) / Math.max(1, thumbs.filter(e => e.body > 0).length),
                          };
                        }
                        """, from);
                    results.Add(new
                    {
                        tile_size = size, streams = count, tiles_on_screen = visible, figures,
                        browser_cores = Math.Round(browserCores, 3), service_and_test_cores = Math.Round(serviceCores, 3),
                        main_thread_seconds_per_second = main, load_average = load,
                    });
                    output.WriteLine($"tiles {size}: {visible} of {count} on screen: {figures}");
                    output.WriteLine($"tiles {size}: chromium {browserCores:0.000} cores, service (and test) {serviceCores:0.000} cores, " +
                                     $"page main thread per s {JsonSerializer.Serialize(main)}, load average {load}");
                    output.WriteLine($"screenshot: {await page.ScreenshotAsync($"scale-{count}-{size}")}");
                    page.AssertNoErrors();
                }
            }
            finally
            {
                await browser.CloseAsync();
                playwright.Dispose();
            }
            var path = Path.Combine(Repository.Artifacts, $"scale-{count}.json");
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { measured = DateTimeOffset.UtcNow, cores = Environment.ProcessorCount, results },
                new JsonSerializerOptions { WriteIndented = true }));
            output.WriteLine($"figures: {path}");
        }
        finally
        {
            foreach (var sender in senders) sender.Dispose();
        }
    }

    /// <summary>Seconds the page's main thread spent in tasks, scripts, layout and style so far (Chrome's Performance domain).</summary>
    private static async Task<Dictionary<string, double>> MainThreadAsync(ICDPSession cdp)
    {
        var metrics = await cdp.SendAsync("Performance.getMetrics");
        string[] wanted = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"];
        return metrics!.Value.GetProperty("metrics").EnumerateArray()
            .Where(m => wanted.Contains(m.GetProperty("name").GetString()))
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("value").GetDouble());
    }

    /// <summary>CPU time (user + system) of this process's descendants named <paramref name="name"/>…, from /proc.</summary>
    private static TimeSpan ProcessTreeCpu(string name)
    {
        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, (string Comm, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(') + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                ticks[pid] = (comm, long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        var me = Environment.ProcessId;
        bool Descends(int pid)
        {
            for (var i = 0; i < 64 && parents.TryGetValue(pid, out var parent); i++, pid = parent)
                if (parent == me) return true;
            return false;
        }
        var total = ticks.Where(t => t.Value.Comm.StartsWith(name, StringComparison.Ordinal) && Descends(t.Key)).Sum(t => t.Value.Ticks);
        return TimeSpan.FromSeconds(total / 100.0); // USER_HZ
    }

    /// <summary>Waits until every tile on screen shows a picture; returns how many are on screen.</summary>
    private static async Task<int> WaitForVisibleTilesWithPictures(DashboardPage page, int count)
    {
        await page.Page.Locator(".tile").Nth(count - 1).WaitForAsync(new() { Timeout = 60_000 });
        var visible = 0;
        await Net.WaitUntilAsync(async () =>
        {
            var state = await page.Page.EvaluateAsync<int[]>("""
                () => {
                  const tiles = [...document.querySelectorAll('.tile')].filter(t => { const r = t.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; });
                  return [tiles.length, tiles.filter(t => t.classList.contains('has-picture')).length];
                }
                """);
            visible = state[0];
            return state[0] > 0 && state[0] == state[1];
        }, 90, "every tile on screen to show its picture");
        return visible;
    }

    /// <summary>One ffmpeg encode (320×180, 25 fps, H.264 + AAC) sent to every port of <paramref name="ports"/> through the tee muxer.</summary>
    private static ChildProcess TeeSender(string picture, int[] ports)
    {
        var outputs = string.Join("|", ports.Select(p => $"[f=mpegts:onfail=ignore]udp://127.0.0.1:{p}?pkt_size=1316"));
        var arguments = $"-hide_banner -loglevel error -re -f lavfi -i {picture}=s=320x180:r=25 -re -f lavfi -i sine=f=440:r=48000 " +
                        "-map 0:v -map 1:a -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k " +
                        $"-f tee \"{outputs}\"";
        return ChildProcess.Start(new ProcessStartInfo("ffmpeg", arguments) { RedirectStandardInput = true });
    }
}

/// <summary>A fact that runs only when VIGIL_DASHBOARD_SCALE (the number of streams) is set: a measurement, not a regular test.</summary>
public sealed class ScaleFactAttribute : FactAttribute
{
    public ScaleFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("VIGIL_DASHBOARD_SCALE")))
            Skip = "a measurement: set VIGIL_DASHBOARD_SCALE=64 (scripts/bench-dashboard.sh)";
    }
}
