using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Vigil.Service;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench streams --streams N</c>: N live 720p25 H.264 streams (UDP MPEG-TS, each sent in real time
/// by its own <c>ffmpeg -re -stream_loop -1 -c copy</c>) monitored by an in-process <c>vigil serve</c> with all
/// detectors. Reports per-stream analysed fps, frames shed, lag, CPU and memory per stream, and the
/// notification latency from a black onset in the stream (known by construction, timed from each sender's
/// first packet) to its SSE <c>defect_start</c>; beside it, how many of the same live streams plain
/// <c>ffmpeg -f null</c> receivers decode per core (by CPU time), and the file decode-only capacity.
/// </summary>
internal static class StreamsBench
{
    private const double ClipSeconds = 12, BlackFrom = 6, BlackTo = 9;

    public static Command Create()
    {
        var streams = new Option<int>("--streams", "-n") { Description = "Concurrent live streams", DefaultValueFactory = _ => 4 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds (after a warm-up)", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds to connect and settle before measuring", DefaultValueFactory = _ => 8 };
        var skipDecode = new Option<bool>("--no-decode-reference") { Description = "Skip the ffmpeg -f null decode-only reference" };
        var command = new Command("streams", "Live streams monitored in real time by vigil serve vs ffmpeg decode-only capacity")
        {
            streams, seconds, warmup, skipDecode,
        };
        command.SetAction(async (parse, cancel) =>
            await RunAsync(parse.GetValue(streams), parse.GetValue(seconds), parse.GetValue(warmup), !parse.GetValue(skipDecode), cancel));
        return command;
    }

    private static async Task<int> RunAsync(int count, int seconds, int warmup, bool decodeReference, CancellationToken cancel)
    {
        var work = Path.Combine(Path.GetTempPath(), $"vigil-bench-streams-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        var clip = Path.Combine(work, "clip720p25.ts");
        Console.Error.WriteLine($"vigil bench streams: generating {ClipSeconds} s 720p25 H.264/AAC clip, black {BlackFrom}-{BlackTo} s of every loop");
        var error = await Ffmpeg.RunAsync(
            $"-y -v error -f lavfi -i testsrc2=size=1280x720:rate=25:duration={ClipSeconds} -f lavfi -i sine=frequency=440:sample_rate=48000:duration={ClipSeconds} " +
            $"-vf \"drawbox=enable='between(t,{BlackFrom},{BlackTo})':color=black:t=fill\" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p " +
            $"-c:a aac -b:a 128k -f mpegts \"{clip}\"", cancel);
        if (error is not null)
        {
            Console.Error.WriteLine($"vigil bench streams: ffmpeg failed: {error}");
            return 1;
        }

        var senders = new List<(Process Process, long StartTicks)>();
        var vigilCpuPerStream = double.NaN;
        var app = VigilServer.Build(overrides: new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["DataDir"] = Path.Combine(work, "data"),
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
                var (sender, port, firstPacket) = await StartSenderAsync(clip, cancel);
                senders.Add((sender, firstPacket));
                var response = await http.PostAsJsonAsync("/api/streams", new { id = $"bench-{i}", url = $"udp://127.0.0.1:{port}" }, cancel);
                response.EnsureSuccessStatusCode();
                ids.Add($"bench-{i}");
            }

            Console.Error.WriteLine($"vigil bench streams: {count} streams started; warming up {warmup} s, measuring {seconds} s");
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
            vigilCpuPerStream = cpu / count;
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

            Console.WriteLine($"streams: {count} x 720p25 H.264 + AAC over UDP, all detectors ({string.Join(", ", Vigil.Detectors.DetectorCatalog.Kinds)})");
            Console.WriteLine($"measured: {wall.Elapsed.TotalSeconds:0.0} s after {warmup} s warm-up; machine: {Environment.ProcessorCount} cores");
            Console.WriteLine("stream      fps   frames  shed(total)  shed(measured)  lag_s");
            var realTime = 0;
            foreach (var id in ids)
            {
                var (f0, s0, _, _) = first[id];
                var (f1, s1, lag, shedTotal) = last[id];
                var fps = (f1 - f0) / wall.Elapsed.TotalSeconds;
                var shed = s1 - s0;
                if (fps >= 24 && shed == 0) realTime++;
                Console.WriteLine($"{id,-10} {fps,5:0.0} {f1 - f0,8} {shedTotal,12} {shed,15} {lag,6:0.00}");
            }
            latencies.Sort();
            Console.WriteLine($"real time with nothing shed: {realTime}/{count} streams");
            Console.WriteLine($"vigil CPU: {cpu:0.00} cores ({100 * cpu / Environment.ProcessorCount:0}% of the machine); " +
                              $"memory: {(peakRss - rssBefore) / count / 1048576.0:0.0} MiB per stream (peak RSS {peakRss / 1048576.0:0} MiB)");
            Console.WriteLine(latencies.Count == 0
                ? "notification latency: no defect_start seen (measure longer than one 12 s loop)"
                : $"notification latency (black onset -> SSE defect_start, min_duration 1.0 s): median {Percentile(latencies, 0.5):0.000} s, " +
                  $"p95 {Percentile(latencies, 0.95):0.000} s over {latencies.Count} events");
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

        var cores = Environment.ProcessorCount;
        var vigilCapacity = Math.Floor(cores / vigilCpuPerStream);
        Console.WriteLine($"vigil serve by CPU time: {vigilCpuPerStream:0.000} cores per stream = {vigilCapacity} streams on {cores} cores");
        if (decodeReference)
        {
            // the same streams, live, decoded by plain ffmpeg -f null (one receiver per stream): the issue's reference
            var live = await LiveDecodeCpuPerStreamAsync(clip, count, warmup, seconds, cancel);
            var liveCapacity = Math.Floor(cores / live);
            Console.WriteLine($"ffmpeg -f null, {count} live UDP receivers: {live:0.000} cores per stream = {liveCapacity} streams on {cores} cores; " +
                              $"vigil = {vigilCapacity / liveCapacity:0%} of that count");
            // and the decoder alone on the file at full speed, one single-threaded decoder per core: the floor under both
            var runs = await Task.WhenAll(Enumerable.Range(0, cores).Select(_ => DecodeAsync(clip, cancel)));
            var fps = runs.Sum(r => r.Frames / r.WallSeconds);
            var cpuPerStream = runs.Sum(r => r.CpuSeconds) / runs.Sum(r => r.Frames / 25.0);
            Console.WriteLine($"ffmpeg -f null decoding the file: {fps:0} fps with {runs.Length} single-threaded decoders = {Math.Floor(fps / 25)} streams of 720p25 " +
                              $"in real time by wall clock; {cpuPerStream:0.000} cores per stream = {Math.Floor(cores / cpuPerStream)} streams by CPU time; " +
                              $"vigil = {vigilCapacity / Math.Floor(cores / cpuPerStream):0%} of that count");
        }
        Directory.Delete(work, recursive: true);
        return 0;
    }

    /// <summary>Decodes the clip 4 times with <c>ffmpeg -threads 1 -benchmark -f null</c>: frames, wall seconds, CPU seconds (user + system).</summary>
    private static async Task<(double Frames, double WallSeconds, double CpuSeconds)> DecodeAsync(string clip, CancellationToken cancel)
    {
        const int loops = 4;
        var info = new ProcessStartInfo("ffmpeg", $"-hide_banner -nostats -benchmark -threads 1 -stream_loop {loops - 1} -i \"{clip}\" -f null -")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        await process.WaitForExitAsync(cancel);
        var text = await stderr + await stdout;
        var bench = System.Text.RegularExpressions.Regex.Match(text, @"utime=([0-9.]+)s stime=([0-9.]+)s rtime=([0-9.]+)s");
        if (process.ExitCode != 0 || !bench.Success) throw new InvalidOperationException($"ffmpeg decode reference failed: {text.Trim()}");
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
    private static async Task<double> LiveDecodeCpuPerStreamAsync(string clip, int count, int warmup, int seconds, CancellationToken cancel)
    {
        var processes = new List<Process>();
        try
        {
            var receivers = new List<Process>();
            for (var i = 0; i < count; i++)
            {
                var (sender, port, _) = await StartSenderAsync(clip, cancel);
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

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
