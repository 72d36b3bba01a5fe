using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Tests.Support;

namespace Vigil.Tests.Cli;

/// <summary>
/// <c>vigil analyze</c> run as a process: bad input gives exit code 1 and one clear line on stderr,
/// never a crash or a stack trace; <c>--json</c> puts only contract JSON lines on stdout, summary last.
/// </summary>
public sealed class AnalyzeCliTests
{
    private static void AssertFailedCleanly(VigilCli.Run run, string input, int exitCode = 1)
    {
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}, expected {exitCode}; stderr: {run.Stderr}");
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("vigil: ", line);
        if (input.Length > 0) Assert.Contains(input, line);
        Assert.DoesNotContain("Exception", line);
    }

    /// <summary>Parses stdout as JSON Lines; every line must be an object with an "event"; the summary comes last, once.</summary>
    private static List<JsonElement> JsonLines(VigilCli.Run run)
    {
        var events = run.StdoutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal(JsonValueKind.Object, e.ValueKind));
        Assert.Equal("summary", events[^1].GetProperty("event").GetString());
        Assert.All(events[..^1], e => Assert.Equal("defect", e.GetProperty("event").GetString()));
        Assert.Equal(events.Count - 1, events[^1].GetProperty("defects").GetInt32());
        return events;
    }

    [Fact]
    public async Task Analyze_MissingFile_ExitsOneWithOneLine()
    {
        var missing = Path.Combine(TestClips.WorkFolder, "no-such-clip.mp4");
        AssertFailedCleanly(await VigilCli.RunAsync("analyze", missing, "--json"), missing);
    }

    [Fact]
    public async Task Analyze_RandomBytes_ExitsOneWithOneLine()
    {
        var garbage = await TestClips.RandomBytes();
        AssertFailedCleanly(await VigilCli.RunAsync("analyze", garbage, "--json"), garbage);
    }

    [Fact]
    public async Task Analyze_Mp4CutInHalf_ExitsOneWithOneLine()
    {
        // ffmpeg writes the moov index at the end: the first half has none and cannot be opened
        var half = await TestClips.FirstHalf(TestClips.Mp4WithAudio(), "av-half.mp4");
        AssertFailedCleanly(await VigilCli.RunAsync("analyze", half, "--json"), half);
    }

    [Fact]
    public async Task Analyze_UnreachableHttpUrl_ExitsOneWithOneLine()
    {
        const string url = "http://127.0.0.1:9/x.ts"; // discard port: connection refused
        AssertFailedCleanly(await VigilCli.RunAsync("analyze", url, "--json"), url);
    }

    [Fact]
    public async Task Analyze_UdpWithNoSender_TimesOutWithOneLine()
    {
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0))) port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        var url = $"udp://127.0.0.1:{port}?timeout=500000"; // FFmpeg's udp read timeout, in µs
        AssertFailedCleanly(await VigilCli.RunAsync("analyze", url, "--json"), url);
    }

    [Fact]
    public async Task Analyze_FeedDiesWithBlackOpen_PrintsTheBlackClosedByErrorThenFails()
    {
        // issue 11.8: a live feed (HTTP on loopback) sends 6 s of MPEG-TS whose last 3 s are black, then
        // nothing more while holding the connection open: the input fails as stalled with the black open
        var ts = await TestClips.Generate("black-at-end.ts",
            "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -vf \"drawbox=enable='gte(t,3)':color=black:t=fill\" " +
            "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 25 -f mpegts");
        await using var feed = await DyingFeed.StartAsync(await File.ReadAllBytesAsync(ts));

        var run = await VigilCli.RunAsync("analyze", feed.Url, "--json", "--detectors", "video.black", "--stall-timeout", "1");

        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.Stderr}");
        var line = Assert.Single(run.StdoutLines); // the defect open when the input failed; no summary
        var black = JsonDocument.Parse(line).RootElement;
        Assert.Equal("defect", black.GetProperty("event").GetString());
        Assert.Equal("video.black", black.GetProperty("kind").GetString());
        Assert.Equal(3.0, black.GetProperty("start").GetDouble(), 0.041);
        Assert.InRange(black.GetProperty("end").GetDouble(), 5.0, 6.0 + 0.041); // the last picture analysed
        Assert.Equal("error", black.GetProperty("details").GetProperty("closed_by").GetString());
        var error = Assert.Single(run.StderrLines);
        Assert.StartsWith("vigil: ", error);
        Assert.Contains("stalled", error);
    }

    [Fact]
    public async Task Analyze_TwoChannelsDieTogether_TwoDefectsOneEach()
    {
        var clip = await TestClips.TwoChannelsDieTogether();
        var run = await VigilCli.RunAsync("analyze", clip, "--json", "--detectors", "audio.silence");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var silences = JsonLines(run).Where(e => e.GetProperty("event").GetString() == "defect").ToList();
        Assert.Equal(2, silences.Count);
        Assert.Equal([1, 2], silences.Select(e => e.GetProperty("details").GetProperty("channel").GetInt32()).Order());
        Assert.All(silences, e => Assert.Equal(2.0, e.GetProperty("start").GetDouble(), 0.011));
    }

    [Fact]
    public async Task Analyze_TsCutInHalf_AnalysesToItsEnd()
    {
        var half = await TestClips.FirstHalf(TestClips.TsWithAudio(), "av-half.ts");
        var run = await VigilCli.RunAsync("analyze", half, "--json");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var summary = JsonLines(run)[^1];
        Assert.InRange(summary.GetProperty("duration").GetDouble(), 2.0, 4.0); // about half of the 6 s
        Assert.InRange(summary.GetProperty("video").GetProperty("frames").GetInt32(), 50, 100);
    }

    [Fact]
    public async Task Analyze_StreamJoinedMidGop_WaitsForTheKeyFrameWithoutFalseDefects()
    {
        // a TS whose 4 s GOPs are cut 1.5 s into the first one: what a monitor sees joining a live feed.
        // Until the key frame at 4 s every packet fails to decode; that is not damage and not fatal.
        var ts = await TestClips.Generate("long-gop.ts",
            "-f lavfi -i testsrc2=size=320x240:rate=25:duration=10 -f lavfi -i sine=frequency=440:duration=10 " +
            "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 100 -keyint_min 100 -sc_threshold 0 -c:a aac -f mpegts");
        var bytes = await File.ReadAllBytesAsync(ts);
        var cut = Path.Combine(TestClips.WorkFolder, "long-gop-joined.ts");
        var skip = bytes.Length * 15 / 100 / 188 * 188; // on a TS packet boundary
        await File.WriteAllBytesAsync(cut, bytes.AsMemory(skip));

        var run = await VigilCli.RunAsync("analyze", cut, "--json");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var lines = JsonLines(run);
        Assert.DoesNotContain(lines, e => e.TryGetProperty("kind", out var k) && k.GetString() is "video.corruption" or "video.blockiness");
        var video = lines[^1].GetProperty("video");
        Assert.Equal(320, video.GetProperty("width").GetInt32());
        Assert.InRange(video.GetProperty("frames").GetInt32(), 100, 200); // from the key frame at 4 s to 10 s: 150
    }

    [Fact]
    public async Task Analyze_FaststartMp4CutInHalf_AnalysesWhatIsThere()
    {
        // with the index at the front the first half opens; its data simply stops
        var faststart = TestClips.Generate("av-faststart.mp4",
            $"-i \"{await TestClips.Mp4WithAudio()}\" -c copy -movflags +faststart");
        var half = await TestClips.FirstHalf(faststart, "av-faststart-half.mp4");
        var run = await VigilCli.RunAsync("analyze", half, "--json");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.InRange(JsonLines(run)[^1].GetProperty("duration").GetDouble(), 2.0, 4.0);
    }

    [Fact]
    public async Task Analyze_Json_StdoutHoldsOnlyContractLinesWithSummaryLast()
    {
        var clip = await TestClips.Black();
        var process = System.Diagnostics.Stopwatch.StartNew();
        var run = await VigilCli.RunAsync("analyze", clip, "--json");
        process.Stop();
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var events = JsonLines(run);
        var black = Assert.Single(events, e => e.GetProperty("event").GetString() == "defect");
        Assert.Equal("video.black", black.GetProperty("kind").GetString());
        Assert.Equal(2.0, black.GetProperty("start").GetDouble(), 0.041);
        Assert.Equal(4.0, black.GetProperty("end").GetDouble(), 0.041);
        var summary = events[^1];
        Assert.Equal(6.0, summary.GetProperty("duration").GetDouble(), 0.05);
        var video = summary.GetProperty("video");
        Assert.Equal("h264", video.GetProperty("codec").GetString());
        Assert.Equal(320, video.GetProperty("width").GetInt32());
        Assert.Equal(240, video.GetProperty("height").GetInt32());
        Assert.Equal(25.0, video.GetProperty("fps").GetDouble());
        Assert.Equal(150, video.GetProperty("frames").GetInt32());
        // the analysis' own wall time: in seconds, taken inside the process, so positive and shorter than the whole run
        // (not a speed bound: a unit mix-up, milliseconds or a stray epoch, fails this)
        var wall = summary.GetProperty("wall_seconds").GetDouble();
        Assert.True(wall > 0 && wall < process.Elapsed.TotalSeconds, $"wall_seconds {wall} outside (0, {process.Elapsed.TotalSeconds:0.000}) s, the process's run");
        // and nothing on stderr that looks like an error
        Assert.DoesNotContain("vigil:", run.Stderr);
    }

    [Theory]
    [InlineData("video", "video", "audio")]
    [InlineData("audio", "audio", "video")]
    [InlineData("video.black,audio.silence", "video", null)]
    [InlineData("stream.discontinuity", "video", null)] // watches the timestamps of every stream
    public async Task Analyze_DecodesOnlyWhatTheSelectedDetectorsListenTo(string detectors, string decoded, string? skipped)
    {
        var run = await VigilCli.RunAsync("analyze", await TestClips.Mp4WithAudio(), "--json", "--detectors", detectors);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var summary = JsonLines(run)[^1];
        Assert.True(summary.TryGetProperty(decoded, out _), $"no '{decoded}' in {summary}");
        if (skipped is null)
        {
            Assert.Equal(150, summary.GetProperty("video").GetProperty("frames").GetInt32());
            Assert.True(summary.TryGetProperty("loudness", out _), $"no loudness in {summary}");
        }
        else
        {
            Assert.False(summary.TryGetProperty(skipped, out _), $"'{skipped}' was decoded: {summary}");
            Assert.Equal(decoded == "audio", summary.TryGetProperty("loudness", out _));
        }
    }

    [Fact]
    public async Task Analyze_VideoDetectorsOnAudioOnlyInput_SayWhatIsMissing()
    {
        var wav = await TestClips.Silence();
        var run = await VigilCli.RunAsync("analyze", wav, "--json", "--detectors", "video");
        AssertFailedCleanly(run, wav);
        Assert.Contains("no decodable video stream", run.Stderr);
    }

    [Theory]
    [InlineData("--detectors", "video.blak", "unknown detector 'video.blak'")]
    [InlineData("--set", "video.black.min_durration=2", "no option 'min_durration'")]
    [InlineData("--set", "video.black.min_duration=-5", "video.black.min_duration must be between")]
    public async Task Analyze_BadOption_ExitsTwoWithOneLine(string option, string value, string message)
    {
        var run = await VigilCli.RunAsync("analyze", await TestClips.Content(), option, value, "--json");
        AssertFailedCleanly(run, "", exitCode: 2);
        Assert.Contains(message, run.Stderr);
    }
}

/// <summary>
/// A live feed over HTTP on 127.0.0.1 that goes dead: it answers one request with <c>bytes</c> and then
/// sends nothing more, holding the connection open until disposed (every wait bounded by the test's end).
/// </summary>
internal sealed class DyingFeed : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private DyingFeed(TcpListener listener, byte[] bytes)
    {
        _listener = listener;
        _serving = ServeAsync(bytes, _stop.Token);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/feed.ts";

    public static Task<DyingFeed> StartAsync(byte[] bytes)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new DyingFeed(listener, bytes));
    }

    private async Task ServeAsync(byte[] bytes, CancellationToken stop)
    {
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(stop);
            var stream = client.GetStream();
            var request = new byte[8192];
            var read = 0;
            while (read < request.Length && !System.Text.Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n"))
            {
                var n = await stream.ReadAsync(request.AsMemory(read), stop);
                if (n == 0) return;
                read += n;
            }
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\n\r\n"u8.ToArray(), stop);
            await stream.WriteAsync(bytes, stop);
            await Task.Delay(Timeout.Infinite, stop); // the feed is dead, the connection stays up
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }
}

