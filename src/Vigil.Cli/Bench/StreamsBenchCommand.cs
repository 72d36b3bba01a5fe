using System.CommandLine;
using Vigil.Detectors;
using Vigil.Tools;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench streams --streams N</c>: N live streams monitored in real time by an in-process <c>vigil serve</c>,
/// against plain ffmpeg receivers of the same streams and the file decode-only capacity (<see cref="StreamsBench"/>).
/// </summary>
internal static class StreamsBenchCommand
{
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
        StreamsBench bench;
        try
        {
            bench = await StreamsBench.CreateAsync(Console.Error, cancel);
        }
        catch (FfmpegException e)
        {
            Console.Error.WriteLine($"vigil bench streams: {e.Message}");
            return 1;
        }
        using (bench)
        {
            var r = await bench.MonitorAsync(count, seconds, warmup, Console.Error, cancel);
            Console.WriteLine($"streams: {count} x 720p25 H.264 + AAC over UDP, all detectors ({string.Join(", ", DetectorCatalog.Kinds)})");
            Console.WriteLine($"measured: {r.WallSeconds:0.0} s after {warmup} s warm-up; machine: {Environment.ProcessorCount} cores");
            Console.WriteLine("stream      fps   frames  shed(total)  shed(measured)  lag_s");
            foreach (var s in r.Streams)
                Console.WriteLine($"{s.Id,-10} {s.Fps,5:0.0} {s.Frames,8} {s.ShedTotal,12} {s.ShedMeasured,15} {s.LagSeconds,6:0.00}");
            Console.WriteLine($"real time with nothing shed: {r.Streams.Count(s => s.RealTime)}/{count} streams");
            Console.WriteLine($"vigil CPU: {r.Cores:0.00} cores ({100 * r.Cores / Environment.ProcessorCount:0}% of the machine); " +
                              $"memory: {r.MemoryPerStreamMiB:0.0} MiB per stream (peak RSS {r.PeakRssMiB:0} MiB)");
            Console.WriteLine(r.Latencies.Count == 0
                ? $"notification latency: no defect_start seen (measure longer than one {StreamsBench.ClipSeconds:0} s loop)"
                : $"notification latency (black onset -> SSE defect_start, min_duration 1.0 s): median {r.LatencyPercentile(0.5):0.000} s, " +
                  $"p95 {r.LatencyPercentile(0.95):0.000} s over {r.Latencies.Count} events");

            var cores = Environment.ProcessorCount;
            var vigilCapacity = Math.Floor(cores / r.CoresPerStream);
            Console.WriteLine($"vigil serve by CPU time: {r.CoresPerStream:0.000} cores per stream = {vigilCapacity} streams on {cores} cores");
            if (!decodeReference) return 0;
            // the same streams, live, decoded by plain ffmpeg -f null (one receiver per stream): the issue's reference
            var live = await bench.LiveDecodeCoresPerStreamAsync(count, warmup, seconds, cancel);
            var liveCapacity = Math.Floor(cores / live);
            Console.WriteLine($"ffmpeg -f null, {count} live UDP receivers: {live:0.000} cores per stream = {liveCapacity} streams on {cores} cores; " +
                              $"vigil = {vigilCapacity / liveCapacity:0%} of that count");
            // and the decoder alone on the file at full speed, one single-threaded decoder per core: the floor under both
            var file = await bench.FileDecodeAsync(cancel);
            Console.WriteLine($"ffmpeg -f null decoding the file: {file.Fps:0} fps with {file.Decoders} single-threaded decoders = {Math.Floor(file.Fps / 25)} streams of 720p25 " +
                              $"in real time by wall clock; {file.CoresPerStream:0.000} cores per stream = {Math.Floor(cores / file.CoresPerStream)} streams by CPU time; " +
                              $"vigil = {vigilCapacity / Math.Floor(cores / file.CoresPerStream):0%} of that count");
            return 0;
        }
    }
}
