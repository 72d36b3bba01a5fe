using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Vigil.Service;

namespace Vigil.Tools.Bench;

/// <summary>One monitored stream over the measured window.</summary>
/// <param name="Id">The stream's id in the service.</param>
/// <param name="Fps">Frames analysed per wall second.</param>
/// <param name="Frames">Frames analysed in the window.</param>
/// <param name="ShedTotal">Frames shed since the stream started.</param>
/// <param name="ShedMeasured">Frames shed in the window.</param>
/// <param name="LagSeconds">The stream's lag at the end.</param>
public sealed record MonitoredStream(string Id, double Fps, long Frames, long ShedTotal, long ShedMeasured, double LagSeconds)
{
    /// <summary>Analysed at 24 fps or more with nothing shed in the window.</summary>
    public bool RealTime => Fps >= 24 && ShedMeasured == 0;
}

/// <summary>What <see cref="StreamsBench.MonitorAsync"/> measured.</summary>
/// <param name="Streams">Each stream over the window.</param>
/// <param name="WallSeconds">The measured window.</param>
/// <param name="Cores">CPU cores <c>vigil serve</c> used on average over the window (all streams).</param>
/// <param name="MemoryPerStreamMiB">Peak resident memory over the window above the idle service, per stream.</param>
/// <param name="PeakRssMiB">Peak resident memory of the process.</param>
/// <param name="Latencies">Seconds from each black onset to its SSE <c>defect_start</c>, sorted.</param>
public sealed record MonitorResult(IReadOnlyList<MonitoredStream> Streams, double WallSeconds, double Cores, double MemoryPerStreamMiB,
    double PeakRssMiB, IReadOnlyList<double> Latencies)
{
    /// <summary>CPU cores per stream.</summary>
    public double CoresPerStream => Cores / Streams.Count;

    /// <summary>The <paramref name="p"/> quantile (0..1) of <see cref="Latencies"/>.</summary>
    public double LatencyPercentile(double p) =>
        Latencies[Math.Clamp((int)Math.Ceiling(p * Latencies.Count) - 1, 0, Latencies.Count - 1)];
}

/// <summary>The decoder alone on the file at full speed, one single-threaded <c>ffmpeg -f null</c> per core.</summary>
/// <param name="Decoders">How many ran at once.</param>
/// <param name="Fps">Frames per wall second, all decoders together.</param>
/// <param name="CoresPerStream">CPU seconds per second of 25 fps stream.</param>
public sealed record FileDecodeResult(int Decoders, double Fps, double CoresPerStream);

/// <summary>
/// The stream benchmark: N live 720p25 H.264 streams (UDP MPEG-TS, each sent in real time by its own
/// <c>ffmpeg -re -stream_loop -1 -c copy</c>) monitored by an in-process <c>vigil serve</c> with all detectors
/// (<see cref="MonitorAsync"/>): per-stream analysed fps, frames shed, lag, CPU and memory per stream, and the
/// notification latency from a black onset in the stream (known by construction, timed from each sender's
/// first packet) to its SSE <c>defect_start</c>. Beside it, how many of the same live streams plain
/// <c>ffmpeg -f null</c> receivers decode per core by CPU time (<see cref="LiveDecodeCoresPerStreamAsync"/>),
/// and the file decode-only capacity (<see cref="FileDecodeAsync"/>). Owns a work folder with the clip, removed on dispose.
/// </summary>
public sealed class StreamsBench : IDisposable
{
    /// <summary>The clip loops every this many seconds; black from <see cref="BlackFrom"/> to <see cref="BlackTo"/> of every loop.</summary>
    public const double ClipSeconds = 12, BlackFrom = 6, BlackTo = 9;

    private readonly string _work;
    private readonly string _clip;

    private StreamsBench(string work, string clip) => (_work, _clip) = (work, clip);

    /// <summary>The generated 720p25 clip (also what <c>vigil bench fleet</c> streams).</summary>
    public string Clip => _clip;

    /// <summary>Generates the 12 s 720p25 H.264/AAC clip with its black stretch into a fresh work folder.</summary>
    public static async Task<StreamsBench> CreateAsync(TextWriter log, CancellationToken cancel)
    {
        var work = Path.Combine(Path.GetTempPath(), $"vigil-bench-streams-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        var clip = Path.Combine(work, "clip720p25.ts");
        await log.WriteLineAsync($"vigil bench streams: generating {ClipSeconds} s 720p25 H.264/AAC clip, black {BlackFrom}-{BlackTo} s of every loop");
        try
        {
            await FfmpegCli.RunAsync(
                $"-y -v error -f lavfi -i testsrc2=size=1280x720:rate=25:duration={ClipSeconds} -f lavfi -i sine=frequency=440:sample_rate=48000:duration={ClipSeconds} " +
                $"-vf \"drawbox=enable='between(t,{BlackFrom},{BlackTo})':color=black:t=fill\" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p " +
                $"-c:a aac -b:a 128k -f mpegts \"{clip}\"", cancel);
        }
        catch
        {
            Directory.Delete(work, recursive: true);
            throw;
        }
        return new StreamsBench(work, clip);
    }

    /// <summary>Removes the work folder.</summary>
    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>
    /// Starts an in-process <c>vigil serve</c> and <paramref name="count"/> live senders, waits <paramref name="warmup"/> seconds,
    /// then measures <paramref name="seconds"/> seconds.
    /// </summary>
    public async Task<MonitorResult> MonitorAsync(int count, int seconds, int warmup, TextWriter log, CancellationToken cancel)
    {
        var senders = new List<(Process Process, long StartTicks)>();
        var app = VigilServer.Build(overrides: new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["DataDir"] = Path.Combine(_work, "data"),
            ["ApiKeys:0"] = "bench",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await app.StartAsync(cancel);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(VigilServer.Addresses(app)[0]) };
            http.DefaultRequestHeaders.Add("X-Api-Key", "bench");
            var arrivals = new List<(string Stream, long Ticks)>();
            using var stopSse = new CancellationTokenSource();
            var sse = ReadSseAsync(http, arrivals, stopSse.Token);

            GC.Collect();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var rssBefore = self.WorkingSet64;
            var ids = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var (sender, port, firstPacket) = await StartSenderAsync(_clip, cancel);
                senders.Add((sender, firstPacket));
                var response = await http.PostAsJsonAsync("/api/streams", new { id = $"bench-{i}", url = $"udp://127.0.0.1:{port}" }, cancel);
                response.EnsureSuccessStatusCode();
                ids.Add($"bench-{i}");
            }

            await log.WriteLineAsync($"vigil bench streams: {count} streams started; warming up {warmup} s, measuring {seconds} s");
            await Task.Delay(TimeSpan.FromSeconds(warmup), cancel);
            var first = await StatusAsync(http, ids, cancel);
            self.Refresh();
            var cpuStart = self.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            long peakRss = 0;
            for (var t = 0; t < seconds; t++)
            {
                await Task.Delay(1000, cancel);
                self.Refresh();
                peakRss = Math.Max(peakRss, self.WorkingSet64);
            }
            self.Refresh();
            var cpu = (self.TotalProcessorTime - cpuStart).TotalSeconds / wall.Elapsed.TotalSeconds;
            var last = await StatusAsync(http, ids, cancel);
            await stopSse.CancelAsync();
            try { await sse; } catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException) { }

            // latency: each defect_start against the latest black onset before it, on its sender's clock (ffmpeg -re
            // paces packets from its first one, so the onset leaves the sender BlackFrom seconds after that packet)
            var latencies = new List<double>();
            lock (arrivals)
            {
                foreach (var (stream, ticks) in arrivals)
                {
                    var index = ids.IndexOf(stream);
                    if (index < 0) continue;
                    var sinceStart = (ticks - senders[index].StartTicks) / (double)Stopwatch.Frequency;
                    var loop = Math.Floor((sinceStart - BlackFrom) / ClipSeconds);
                    if (loop < 0) continue;
                    latencies.Add(sinceStart - (loop * ClipSeconds + BlackFrom));
                }
            }
            latencies.Sort();

            var streams = ids.Select(id =>
            {
                var (f0, s0, _, _) = first[id];
                var (f1, s1, lag, shedTotal) = last[id];
                return new MonitoredStream(id, (f1 - f0) / wall.Elapsed.TotalSeconds, f1 - f0, shedTotal, s1 - s0, lag);
            }).ToList();
            return new MonitorResult(streams, wall.Elapsed.TotalSeconds, cpu, (peakRss - rssBefore) / count / 1048576.0, peakRss / 1048576.0, latencies);
        }
        finally
        {
            foreach (var (sender, _) in senders)
            {
                if (!sender.HasExited) sender.Kill();
                sender.Dispose();
            }
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>The decoder alone on the file at full speed: one single-threaded <c>ffmpeg -f null</c> per core, all at once.</summary>
    public async Task<FileDecodeResult> FileDecodeAsync(CancellationToken cancel)
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => DecodeAsync(_clip, cancel)));
        var fps = runs.Sum(r => r.Frames / r.WallSeconds);
        var coresPerStream = runs.Sum(r => r.CpuSeconds) / runs.Sum(r => r.Frames / 25.0);
        return new FileDecodeResult(runs.Length, fps, coresPerStream);
    }

    /// <summary>Decodes the clip 4 times with <c>ffmpeg -threads 1 -benchmark -f null</c>: frames, wall seconds, CPU seconds (user + system).</summary>
    private static async Task<(double Frames, double WallSeconds, double CpuSeconds)> DecodeAsync(string clip, CancellationToken cancel)
    {
        const int loops = 4;
        var text = await FfmpegCli.RunAsync($"-hide_banner -nostats -benchmark -threads 1 -stream_loop {loops - 1} -i \"{clip}\" -f null -", cancel);
        var bench = System.Text.RegularExpressions.Regex.Match(text, @"utime=([0-9.]+)s stime=([0-9.]+)s rtime=([0-9.]+)s");
        if (!bench.Success) throw new InvalidOperationException($"ffmpeg decode reference printed no -benchmark line: {text.Trim()}");
        double Number(int group) => double.Parse(bench.Groups[group].Value, CultureInfo.InvariantCulture);
        return (ClipSeconds * 25 * loops, Number(3), Number(1) + Number(2));
    }

    private static async Task<Dictionary<string, (long Frames, long Shed, double Lag, long ShedTotal)>> StatusAsync(HttpClient http, List<string> ids, CancellationToken cancel)
    {
        var result = new Dictionary<string, (long, long, double, long)>();
        var list = JsonNode.Parse(await http.GetStringAsync("/api/streams", cancel))!.AsArray();
        foreach (var s in list)
        {
            var status = s!["status"]!;
            var shed = status["frames_shed"]!.GetValue<long>();
            result[s["id"]!.GetValue<string>()] = (status["frames_analysed"]!.GetValue<long>(), shed, status["lag_seconds"]!.GetValue<double>(), shed);
        }
        foreach (var id in ids) result.TryAdd(id, (0, 0, 0, 0));
        return result;
    }

    private static async Task ReadSseAsync(HttpClient http, List<(string, long)> arrivals, CancellationToken stop)
    {
        using var response = await http.GetAsync("/api/events/live?kind=video.black", HttpCompletionOption.ResponseHeadersRead, stop);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
        var type = "";
        while (await reader.ReadLineAsync(stop) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && type == "defect_start")
            {
                var ticks = Stopwatch.GetTimestamp();
                var stream = JsonNode.Parse(line[6..])!["stream_id"]!.GetValue<string>();
                lock (arrivals) arrivals.Add((stream, ticks));
            }
        }
    }

    /// <summary>
    /// Starts <c>ffmpeg -re</c> sending the clip in a loop to a fresh UDP port on 127.0.0.1, and waits for its first
    /// packet: that instant is the sender's media clock origin (the process itself takes a varying 0.1–0.5 s to
    /// start on a loaded machine, which is not the monitor's latency). The port is then free for the receiver.
    /// </summary>
    private static async Task<(Process Sender, int Port, long FirstPacketTicks)> StartSenderAsync(string clip, CancellationToken cancel)
    {
        using var tap = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)tap.Client.LocalEndPoint!).Port;
        var sender = Process.Start(new ProcessStartInfo("ffmpeg",
            $"-v error -re -stream_loop -1 -i \"{clip}\" -c copy -f mpegts \"udp://127.0.0.1:{port}?pkt_size=1316\"")
        {
            RedirectStandardError = true,
            RedirectStandardInput = true,
        })!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await tap.ReceiveAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            sender.Kill();
            throw new InvalidOperationException($"ffmpeg sender to udp port {port} sent nothing in 15 s");
        }
        return (sender, port, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// The same live streams received by plain <c>ffmpeg -threads 1 -i udp://… -f null -</c> (decode only), one process
    /// per stream as Vigil has one pipeline per stream: CPU per stream over the measured window.
    /// </summary>
    public async Task<double> LiveDecodeCoresPerStreamAsync(int count, int warmup, int seconds, CancellationToken cancel)
    {
        var processes = new List<Process>();
        try
        {
            var receivers = new List<Process>();
            for (var i = 0; i < count; i++)
            {
                var (sender, port, _) = await StartSenderAsync(_clip, cancel);
                processes.Add(sender);
                var receiver = Process.Start(new ProcessStartInfo("ffmpeg", $"-v error -threads 1 -i \"udp://127.0.0.1:{port}\" -f null -")
                {
                    RedirectStandardError = true,
                    RedirectStandardInput = true,
                })!;
                processes.Add(receiver);
                receivers.Add(receiver);
            }
            await Task.Delay(TimeSpan.FromSeconds(warmup), cancel);
            TimeSpan Cpu() => receivers.Aggregate(TimeSpan.Zero, (total, p) => { p.Refresh(); return total + p.TotalProcessorTime; });
            var start = Cpu();
            var wall = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancel);
            var used = (Cpu() - start).TotalSeconds;
            if (receivers.Any(r => r.HasExited)) throw new InvalidOperationException("an ffmpeg receiver exited early");
            return used / wall.Elapsed.TotalSeconds / count;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited) process.Kill();
                process.Dispose();
            }
        }
    }
}
