using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Vigil.Service;

namespace Vigil.Tools.Bench;

/// <summary>One memory sample of the soak.</summary>
/// <param name="Seconds">Since the streams were started.</param>
/// <param name="Memory">Resident memory of the process (service and bench), and where it is.</param>
/// <param name="ManagedHeapMiB">Managed heap live after a full collection.</param>
/// <param name="Events">Events stored so far.</param>
/// <param name="Shed">Frames shed so far, all streams.</param>
public sealed record SoakSample(double Seconds, ProcessMemory Memory, double ManagedHeapMiB, long Events, long Shed)
{
    /// <summary>Resident memory of the process.</summary>
    public double RssMiB => Memory.RssMiB;
}

/// <summary>What <see cref="SoakBench.RunAsync"/> measured.</summary>
/// <param name="Samples">Memory every <see cref="SoakBench.SampleSeconds"/> s.</param>
/// <param name="StallDelays">Seconds from killing a sender to its <c>stream.stall</c> defect_start over SSE (the stall time included).</param>
/// <param name="RedeliveryDelays">Seconds from the webhook receiver coming back to the first request it got.</param>
/// <param name="CodecChanges">Codec changes reported (stream.discontinuity with codec_change).</param>
/// <param name="Delivered">Webhook requests the receiver answered.</param>
/// <param name="PendingAtEnd">Webhook deliveries still in the outbox at the end.</param>
/// <param name="SseRefused">Live connections refused while clients churned (expected 0: the churn stays under the caps).</param>
public sealed record SoakResult(
    IReadOnlyList<SoakSample> Samples,
    IReadOnlyList<double> StallDelays,
    IReadOnlyList<double> RedeliveryDelays,
    int CodecChanges,
    long Delivered,
    long PendingAtEnd,
    long SseRefused)
{
    /// <summary>Memory once the service was up, before any stream.</summary>
    public ProcessMemory Started { get; init; }

    /// <summary>Memory after the service stopped (every pipeline closed) and a full collection: what stays is no pipeline's.</summary>
    public ProcessMemory Stopped { get; init; }

    /// <summary>The same after <c>malloc_trim(0)</c> gave the C heap's free memory back.</summary>
    public ProcessMemory Trimmed { get; init; }
}

/// <summary>
/// The soak: N live streams (UDP MPEG-TS, 640×360 H.264/AAC, black 6–9 s of every 12 s loop) into an
/// in-process <c>vigil serve</c> with every detector, a webhook receiver and SSE clients, for M minutes,
/// with faults injected on a 60 s cycle: stream 0's sender dies for 10 s (stall, then recovery), stream 1
/// gets a 5 s burst of random datagrams, stream 2's sender switches between H.264 and MPEG-2, stream 3's
/// sender restarts (timestamps start over) and its pipeline is restarted by a <c>PATCH</c>, the webhook receiver is down 10 s, and 20 SSE clients connect
/// and go away; the other streams run clean. Measures resident memory over the run, the stall detection
/// delay and the first webhook redelivery after the receiver is back.
/// </summary>
public sealed class SoakBench : IDisposable
{
    public const double SampleSeconds = 10, CycleSeconds = 60;
    private const string Key = "soak";

    private readonly string _work, _h264, _mpeg2;

    private SoakBench(string work, string h264, string mpeg2) => (_work, _h264, _mpeg2) = (work, h264, mpeg2);

    /// <summary>Generates the two 12 s clips (H.264/AAC and MPEG-2/MP2, same content) into a fresh work folder.</summary>
    public static async Task<SoakBench> CreateAsync(TextWriter log, CancellationToken cancel)
    {
        var work = Path.Combine(Path.GetTempPath(), $"vigil-bench-soak-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        var source = "-f lavfi -i testsrc2=size=640x360:rate=25:duration=12 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=12 " +
                     "-vf \"drawbox=enable='between(t,6,9)':color=black:t=fill\"";
        await log.WriteLineAsync("vigil bench soak: generating 12 s 640x360 clips (H.264/AAC and MPEG-2/MP2), black 6-9 s of every loop");
        var h264 = Path.Combine(work, "soak-h264.ts");
        var mpeg2 = Path.Combine(work, "soak-mpeg2.ts");
        try
        {
            await FfmpegCli.RunAsync($"-y -v error {source} -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k -f mpegts \"{h264}\"", cancel);
            await FfmpegCli.RunAsync($"-y -v error {source} -c:v mpeg2video -b:v 2M -g 25 -c:a mp2 -f mpegts \"{mpeg2}\"", cancel);
        }
        catch
        {
            Directory.Delete(work, recursive: true);
            throw;
        }
        return new SoakBench(work, h264, mpeg2);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    public async Task<SoakResult> RunAsync(int streams, double minutes, TextWriter log, CancellationToken cancel)
    {
        if (streams < 4) throw new ArgumentException("the soak needs at least 4 streams (one per fault)");
        var receiver = new Receiver();
        await receiver.StartAsync();
        var app = VigilServer.Build(overrides: new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["DataDir"] = Path.Combine(_work, "data"),
            ["ApiKeys:0"] = Key,
            ["WebhookAllowedNetworks:0"] = "127.0.0.1/32",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Vigil.Stream"] = "Error",
            ["Logging:LogLevel:Vigil.Service.Notify.WebhookDispatcher"] = "Error",
        });
        await app.StartAsync(cancel);
        var started = ProcessMemory.Now();
        SoakResult result;
        var senders = new Sender?[streams];
        var ports = new int[streams];
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(VigilServer.Addresses(app)[0]) };
            http.DefaultRequestHeaders.Add("X-Api-Key", Key);
            (await http.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url }, cancel)).EnsureSuccessStatusCode();
            var stalls = new List<(string Stream, long Ticks)>();
            var codecChanges = 0;
            using var stopSse = new CancellationTokenSource();
            var sse = ReadSseAsync(http, (type, e, ticks) =>
            {
                var kind = e["kind"]!.GetValue<string>();
                if (type == "defect_start" && kind == "stream.stall") lock (stalls) stalls.Add((e["stream_id"]!.GetValue<string>(), ticks));
                if (type == "defect" && e["details"]?["codec_change"] is not null) Interlocked.Increment(ref codecChanges);
            }, stopSse.Token);

            for (var i = 0; i < streams; i++)
            {
                ports[i] = FreeUdpPort();
                senders[i] = Sender.Start(_h264, ports[i]);
                (await http.PostAsJsonAsync("/api/streams", new { id = $"soak-{i}", url = $"udp://127.0.0.1:{ports[i]}" }, cancel)).EnsureSuccessStatusCode();
            }
            await log.WriteLineAsync($"vigil bench soak: {streams} streams, {minutes} min, faults every {CycleSeconds} s");

            var samples = new List<SoakSample>();
            var stallDelays = new List<double>();
            var redeliveries = new List<double>();
            var clients = new List<(HttpResponseMessage Response, Stream Body)>();
            var clock = Stopwatch.StartNew();
            var mpeg2Now = false;
            long killedAt = 0, receiverBackAt = 0;
            var nextSample = 0.0;
            var done = new HashSet<(int Cycle, string Step)>();
            var total = minutes * 60;
            GarbageBurst? burst = null;
            while (clock.Elapsed.TotalSeconds < total)
            {
                await Task.Delay(200, cancel);
                var t = clock.Elapsed.TotalSeconds;
                var cycle = (int)(t / CycleSeconds);
                var at = t - cycle * CycleSeconds;
                bool Due(double second, string step) => at >= second && done.Add((cycle, step));

                if (Due(10, "kill 0"))
                {
                    senders[0]!.Dispose();
                    killedAt = Stopwatch.GetTimestamp();
                }
                if (Due(20, "restart 0"))
                {
                    senders[0] = Sender.Start(_h264, ports[0]);
                    lock (stalls)
                        if (stalls.LastOrDefault(s => s.Stream == "soak-0") is { Ticks: var ticks } && ticks > killedAt)
                            stallDelays.Add((ticks - killedAt) / (double)Stopwatch.Frequency);
                }
                if (Due(25, "garbage 1")) burst = new GarbageBurst(ports[1], seconds: 5);
                if (Due(32, "garbage 1 done") && burst is not null)
                {
                    await burst.DisposeAsync();
                    burst = null;
                }
                if (Due(30, "switch 2"))
                {
                    senders[2]!.Dispose();
                    mpeg2Now = !mpeg2Now;
                    senders[2] = Sender.Start(mpeg2Now ? _mpeg2 : _h264, ports[2]);
                }
                if (Due(15, "patch 3"))
                {
                    // a changed stream gets a new pipeline: supervisor, detectors and converter built and torn down again
                    using var patch = new HttpRequestMessage(HttpMethod.Patch, "/api/streams/soak-3") { Content = JsonContent.Create(new { name = $"soak 3 ({cycle})" }) };
                    using var changed = await http.SendAsync(patch, cancel);
                    changed.EnsureSuccessStatusCode();
                }
                if (Due(40, "restart 3"))
                {
                    senders[3]!.Dispose();
                    senders[3] = Sender.Start(_h264, ports[3]);
                }
                if (Due(45, "receiver down")) await receiver.StopAsync();
                if (Due(55, "receiver up"))
                {
                    await receiver.StartAsync();
                    receiverBackAt = Stopwatch.GetTimestamp();
                }
                if (receiverBackAt != 0 && receiver.FirstAfter(receiverBackAt) is { } first)
                {
                    redeliveries.Add((first - receiverBackAt) / (double)Stopwatch.Frequency);
                    receiverBackAt = 0;
                }
                if (Due(5, "clients in"))
                    for (var c = 0; c < 20; c++)
                    {
                        var response = await http.GetAsync("/api/events/live", HttpCompletionOption.ResponseHeadersRead, cancel);
                        clients.Add((response, await response.Content.ReadAsStreamAsync(cancel)));
                    }
                if (Due(50, "clients out"))
                {
                    foreach (var (response, body) in clients)
                    {
                        await body.DisposeAsync();
                        response.Dispose();
                    }
                    clients.Clear();
                }
                if (t >= nextSample)
                {
                    nextSample += SampleSeconds;
                    var health = JsonNode.Parse(await http.GetStringAsync("/healthz", cancel))!;
                    var shed = JsonNode.Parse(await http.GetStringAsync("/api/streams", cancel))!.AsArray().Sum(s => s!["status"]!["frames_shed"]!.GetValue<long>());
                    // live managed heap after a full collection: garbage not yet collected is not growth
                    var heap = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0;
                    samples.Add(new SoakSample(Math.Round(t), ProcessMemory.Now(), heap, health["events"]!.GetValue<long>(), shed));
                }
            }
            foreach (var (response, body) in clients)
            {
                await body.DisposeAsync();
                response.Dispose();
            }
            if (burst is not null) await burst.DisposeAsync();
            await stopSse.CancelAsync();
            try { await sse; } catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException) { }
            var pending = JsonNode.Parse(await http.GetStringAsync("/healthz", cancel))!["pending_webhooks"]!.GetValue<long>();
            var metrics = await http.GetStringAsync("/metrics", cancel);
            var refused = System.Text.RegularExpressions.Regex.Match(metrics, @"vigil_sse_refused_total ([0-9]+)") is { Success: true } m ? long.Parse(m.Groups[1].Value) : -1;
            result = new SoakResult(samples, stallDelays, redeliveries, codecChanges, receiver.Count, pending, refused) { Started = started };
        }
        finally
        {
            foreach (var s in senders) s?.Dispose();
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            await receiver.StopAsync();
        }
        // every pipeline is closed: what the process still holds beyond its start is held by none of them
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var stopped = ProcessMemory.Now();
        ProcessMemory.Trim();
        return result with { Stopped = stopped, Trimmed = ProcessMemory.Now() };
    }

    private static int FreeUdpPort()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    private static async Task ReadSseAsync(HttpClient http, Action<string, JsonNode, long> onEvent, CancellationToken stop)
    {
        using var response = await http.GetAsync("/api/events/live", HttpCompletionOption.ResponseHeadersRead, stop);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
        var type = "";
        while (await reader.ReadLineAsync(stop) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) onEvent(type, JsonNode.Parse(line[6..])!, Stopwatch.GetTimestamp());
        }
    }

    /// <summary><c>ffmpeg -re</c> sending a clip in a loop to a UDP port on 127.0.0.1.</summary>
    private sealed class Sender : IDisposable
    {
        private readonly Process _process;

        private Sender(Process process) => _process = process;

        public static Sender Start(string clip, int port) =>
            new(Process.Start(new ProcessStartInfo("ffmpeg",
                $"-v quiet -re -stream_loop -1 -i \"{clip}\" -c copy -f mpegts \"udp://127.0.0.1:{port}?pkt_size=1316\"")
            {
                RedirectStandardInput = true,
                RedirectStandardError = false,
            })!);

        private bool _disposed;

        /// <summary>Kills the sender; safe twice.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(5000);
            _process.Dispose();
        }
    }

    /// <summary>Random datagrams at 100 per second into a port for a bounded time.</summary>
    private sealed class GarbageBurst : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;

        public GarbageBurst(int port, double seconds)
        {
            _task = Task.Run(async () =>
            {
                using var udp = new UdpClient();
                var random = new Random(7);
                var datagram = new byte[1316];
                for (var i = 0; i < seconds * 100 && !_stop.IsCancellationRequested; i++)
                {
                    random.NextBytes(datagram);
                    await udp.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, port), _stop.Token);
                    await Task.Delay(10, _stop.Token);
                }
            });
        }

        private bool _disposed;

        /// <summary>Stops the burst; safe twice.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            await _stop.CancelAsync();
            try { await _task; } catch (OperationCanceledException) { }
            _stop.Dispose();
        }
    }

    /// <summary>A webhook receiver on a fixed loopback port that can go away and come back.</summary>
    private sealed class Receiver
    {
        private readonly int _port;
        private readonly List<long> _arrivals = [];
        private WebApplication? _app;

        public Receiver()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            _port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public string Url => $"http://127.0.0.1:{_port}/hook";

        public long Count
        {
            get { lock (_arrivals) return _arrivals.Count; }
        }

        /// <summary>Stopwatch ticks of the first request at or after <paramref name="ticks"/>; null when none yet.</summary>
        public long? FirstAfter(long ticks)
        {
            lock (_arrivals)
                foreach (var a in _arrivals)
                    if (a >= ticks) return a;
            return null;
        }

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(Url.Replace("/hook", ""));
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.MapPost("/hook", () =>
            {
                lock (_arrivals) _arrivals.Add(Stopwatch.GetTimestamp());
                return Results.Ok();
            });
            await _app.StartAsync();
        }

        public async Task StopAsync()
        {
            if (_app is null) return;
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }
}
