using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Vigil.Tests.Service.Support;

/// <summary>
/// A live test source: an ffmpeg process that renders testsrc2 + a sine tone in real time (<c>-re</c>)
/// with defects injected periodically by timeline expressions, so ground truth is known by
/// construction: black (drawbox fill black), a frozen picture (drawbox fill mid-grey: nothing changes,
/// not black) and silence (volume 0), each repeating every <see cref="Pattern.Period"/> seconds.
/// </summary>
internal sealed class FfmpegLive : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private FfmpegLive(ChildProcess process) => _process = process;

    /// <summary>When in each period the defects are on, in seconds of the source's clock.</summary>
    public sealed record Pattern(double Period, (double From, double To)? Black = null, (double From, double To)? Freeze = null, (double From, double To)? Silence = null)
    {
        public string VideoFilter()
        {
            var filter = "testsrc2=s=320x180:r=25";
            if (Black is var (b0, b1)) filter += $",drawbox=c=black:t=fill:enable='between(mod(t,{Period}),{b0},{b1})'";
            if (Freeze is var (f0, f1)) filter += $",drawbox=c=0x808080:t=fill:enable='between(mod(t,{Period}),{f0},{f1})'";
            return filter;
        }

        public string AudioFilter() =>
            "sine=f=440:r=48000" + (Silence is var (s0, s1) ? $",volume=0:enable='between(mod(t,{Period}),{s0},{s1})'" : "");
    }

    /// <summary>Sends MPEG-TS to <c>udp://127.0.0.1:PORT</c>, which the service opens as its input (H.264/AAC, or MPEG-2 video and audio).</summary>
    public static FfmpegLive Udp(int port, Pattern pattern, bool mpeg2 = false) =>
        Start($"{Inputs(pattern)} {(mpeg2 ? Mpeg2Encode : Encode)} -f mpegts \"udp://127.0.0.1:{port}?pkt_size=1316\"");

    /// <summary>
    /// Broadcasts MPEG-TS to <c>127.255.255.255:PORT</c> (loopback's broadcast address: it never leaves the
    /// machine): every process that opens <c>udp://127.0.0.1:PORT?reuse=1</c> gets its own copy, as fleet
    /// nodes on one machine need (unicast UDP reaches one socket only).
    /// </summary>
    public static FfmpegLive UdpBroadcast(int port, Pattern pattern) =>
        Start($"{Inputs(pattern)} {Encode} -f mpegts \"udp://127.255.255.255:{port}?pkt_size=1316&broadcast=1\"");

    /// <summary>Writes a live HLS playlist (1 s segments) into <paramref name="folder"/>.</summary>
    public static FfmpegLive Hls(string folder, Pattern pattern) =>
        Start($"{Inputs(pattern)} {Encode} -f hls -hls_time 1 -hls_list_size 6 -hls_flags delete_segments+temp_file " +
              $"-hls_segment_filename \"{Path.Combine(folder, "seg%05d.ts")}\" \"{Path.Combine(folder, "live.m3u8")}\"");

    private const string Mpeg2Encode = "-c:v mpeg2video -g 25 -c:a mp2";

    private const string Encode = "-c:v libx264 -preset ultrafast -tune zerolatency -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 64k";

    private static string Inputs(Pattern p) => $"-hide_banner -loglevel error -re -f lavfi -i \"{p.VideoFilter()}\" -re -f lavfi -i \"{p.AudioFilter()}\"";

    // stdin redirected: ffmpeg must never read the test runner's terminal
    private static FfmpegLive Start(string arguments) =>
        new(ChildProcess.Start(new ProcessStartInfo("ffmpeg", arguments) { RedirectStandardInput = true }));

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>An HLS stream on http://127.0.0.1: a Kestrel static file server over the folder ffmpeg keeps writing.</summary>
internal sealed class HlsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FfmpegLive _ffmpeg;

    private HlsServer(WebApplication app, FfmpegLive ffmpeg, string url)
    {
        _app = app;
        _ffmpeg = ffmpeg;
        Url = url;
    }

    public string Url { get; }

    public static async Task<HlsServer> StartAsync(string folder, FfmpegLive.Pattern pattern)
    {
        var ffmpeg = FfmpegLive.Hls(folder, pattern);
        var port = Net.FreeTcpPort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".m3u8"] = "application/vnd.apple.mpegurl";
        types.Mappings[".ts"] = "video/mp2t";
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(folder), ContentTypeProvider = types });
        await app.StartAsync();
        var playlist = Path.Combine(folder, "live.m3u8");
        await Net.WaitUntilAsync(() => File.Exists(playlist) && File.ReadAllText(playlist).Split("#EXTINF").Length > 3, 30, "ffmpeg to write 3 HLS segments");
        return new HlsServer(app, ffmpeg, $"http://127.0.0.1:{port}/live.m3u8");
    }

    public async ValueTask DisposeAsync()
    {
        await _ffmpeg.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Random bytes as UDP datagrams to 127.0.0.1:PORT (garbage on the wire, or a burst into a live feed), at
/// a fixed rate for a bounded time, from its own task; disposing stops it. Seeded, so a run repeats.
/// </summary>
internal sealed class GarbageSender : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;

    public GarbageSender(int port, double seconds, int datagramsPerSecond = 200, int seed = 12)
    {
        _task = Task.Run(async () =>
        {
            using var udp = new System.Net.Sockets.UdpClient();
            var random = new Random(seed);
            var datagram = new byte[1316];
            var total = (int)(seconds * datagramsPerSecond);
            for (var i = 0; i < total && !_stop.IsCancellationRequested; i++)
            {
                random.NextBytes(datagram);
                await udp.SendAsync(datagram, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), _stop.Token);
                await Task.Delay(1000 / datagramsPerSecond, _stop.Token);
            }
        });
    }

    /// <summary>Completes when the bounded burst has been sent.</summary>
    public Task Finished => _task;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _task;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>An HTTP server on 127.0.0.1 that answers 404 to everything: an HLS URL that fails.</summary>
internal sealed class FailingHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FailingHttpServer(WebApplication app, string url) => (_app, Url) = (app, url);

    public string Url { get; }

    public static async Task<FailingHttpServer> StartAsync()
    {
        var port = Net.FreeTcpPort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        return new FailingHttpServer(app, $"http://127.0.0.1:{port}/live/index.m3u8");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
