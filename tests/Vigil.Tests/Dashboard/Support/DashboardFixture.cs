using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Dashboard.Support;

/// <summary>
/// vigil serve with three live UDP streams from ffmpeg (320×180 test pictures with a tone), and chromium:
/// <c>north</c> with a mask, <c>east</c> black for 4.5 s of every 14 (ground truth by construction:
/// drawbox fills the picture), <c>west</c> with a URL whose query a read key must not see.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const double BlackPeriod = 14;
    public static readonly (double From, double To) Black = (6, 10.5);
    public const string NorthMask = "0.8,0.05,0.15,0.1";
    public const string WestQuery = "fifo_size=65536&overrun_nonfatal=1";

    private readonly List<FfmpegLive> _senders = [];

    internal ServiceUnderTest Service { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl => Service.Http.BaseAddress!.ToString().TrimEnd('/');
    public string North { get; private set; } = "";
    public string East { get; private set; } = "";
    public string West { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Service = await ServiceUnderTest.StartAsync();
        var ports = Enumerable.Range(0, 3).Select(_ => Net.FreeUdpPort()).ToArray();
        _senders.Add(FfmpegLive.Udp(ports[0], new FfmpegLive.Pattern(Period: 60)));
        _senders.Add(FfmpegLive.Udp(ports[1], new FfmpegLive.Pattern(Period: BlackPeriod, Black: Black)));
        _senders.Add(FfmpegLive.Udp(ports[2], new FfmpegLive.Pattern(Period: 60)));
        North = await Service.AddStreamAsync(new { id = "north", name = "North", url = $"udp://127.0.0.1:{ports[0]}", masks = new[] { NorthMask } });
        East = await Service.AddStreamAsync(new
        {
            id = "east", name = "East", url = $"udp://127.0.0.1:{ports[1]}",
            // the detectors its pattern is made for: its tile is ok but for the black (the transport analysis of ffmpeg's
            // UDP output may find PCR repetition errors on a loaded machine, which would keep the tile in alarm)
            detectors = new[] { "video.black", "video.freeze", "audio.silence" },
            thresholds = new Dictionary<string, object> { ["video.black.min_duration"] = 0.5 },
        });
        West = await Service.AddStreamAsync(new { id = "west", name = "West", url = $"udp://127.0.0.1:{ports[2]}?{WestQuery}" });
        await Net.WaitUntilAsync(async () =>
        {
            var streams = (await Service.GetJsonAsync("/api/streams")).AsArray();
            return streams.Count >= 3 && streams.All(s => s!["status"]!["state"]!.GetValue<string>() == "running");
        }, 60, "the three streams to run");
        (Playwright, Browser) = await Chromium.LaunchAsync();
    }

    /// <summary>Starts another UDP sender (a stream a test adds itself); it stops with the fixture.</summary>
    internal int StartSender(FfmpegLive.Pattern pattern)
    {
        var port = Net.FreeUdpPort();
        _senders.Add(FfmpegLive.Udp(port, pattern));
        return port;
    }

    internal async Task<JsonNode> StreamAsync(string id) => await Service.GetJsonAsync($"/api/streams/{id}");

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        foreach (var sender in _senders) await sender.DisposeAsync();
        if (Service is not null) await Service.DisposeAsync();
    }
}
