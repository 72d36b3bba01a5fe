using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vigil.Tools.Bench;
using Vigil.Tools.Bench.Handoff;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench handoff --streams N</c>: the same live streams and detectors handed over in memory (Vigil) and
/// through per-frame object storage with an orchestration database (the first design), priced per stream-hour
/// (<see cref="HandoffBench"/>); and <c>vigil bench handoff-worker</c>, the hidden entry of each of its processes.
/// </summary>
internal static class HandoffBenchCommand
{
    public static Command Create()
    {
        var streams = new Option<int>("--streams", "-n") { Description = "Concurrent live streams", DefaultValueFactory = _ => 4 };
        var seconds = new Option<int>("--seconds")
        {
            Description = $"Length of each stream, rounded up to whole {HandoffClip.Seconds:0} s periods (one black, one frozen, one silent stretch each)",
            DefaultValueFactory = _ => 32,
        };
        var detectors = new Option<string>("--detectors") { Description = "Detectors both runs use", DefaultValueFactory = _ => HandoffBenchOptions.DefaultDetectors };
        var prices = new Option<string?>("--prices") { Description = "List prices (JSON; default: the committed prices.json)" };
        var json = new Option<string?>("--json") { Description = "Also write the whole result as JSON to this file" };
        var command = new Command("handoff", "Frames handed over in memory (Vigil) vs through object storage (the first design): CPU, memory, " +
                                             "bytes, requests, transitions and cost per stream-hour, same streams, same defects")
            { streams, seconds, detectors, prices, json };
        command.SetAction(async (parse, cancel) => await RunAsync(new HandoffBenchOptions
        {
            Streams = parse.GetValue(streams),
            Periods = (int)Math.Ceiling(Math.Max(1, parse.GetValue(seconds)) / HandoffClip.Seconds),
            Detectors = parse.GetValue(detectors)!,
            PricesPath = parse.GetValue(prices),
            VigilCli = typeof(HandoffBenchCommand).Assembly.Location,
            WorkDir = BenchCommand.WorkDir,
        }, parse.GetValue(json), cancel));
        return command;
    }

    /// <summary><c>vigil bench handoff-worker CONFIG</c>: one process of the benchmark (not for people; hidden).</summary>
    public static Command CreateWorker()
    {
        var config = new Argument<string>("config") { Description = "The worker's configuration (JSON), written by vigil bench handoff" };
        var command = new Command("handoff-worker", "One process of vigil bench handoff") { config };
        command.Hidden = true;
        command.SetAction(async (parse, cancel) =>
            await HandoffWorker.RunAsync(parse.GetValue(config)!, Console.In, Console.Out, Console.Error, cancel));
        return command;
    }

    private static async Task<int> RunAsync(HandoffBenchOptions options, string? jsonPath, CancellationToken cancel)
    {
        HandoffResult r;
        try
        {
            r = await HandoffBench.RunAsync(options, Console.Error, cancel);
        }
        catch (HandoffMismatchException e)
        {
            await Console.Error.WriteLineAsync($"vigil bench handoff: FAILED: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"vigil bench handoff: {e.Message}");
            return 1;
        }
        if (jsonPath is not null) await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(r, HandoffWorker.Json), cancel);
        Print(r);
        return 0;
    }

    private static void Print(HandoffResult r)
    {
        var (a, b) = (r.InMemory, r.ObjectStorage);
        var (ca, cb) = (r.Cost(a), r.Cost(b));
        var p = r.Prices;
        string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        string Usd(double v) => v == 0 ? "0" : v.ToString(v >= 0.1 ? "0.000" : v >= 0.001 ? "0.0000" : "0.000000", CultureInfo.InvariantCulture);
        string Parts(HandoffRun run) => string.Join(", ", run.Processes.Select(x => I($"{x.Name} {r.PerStreamHour(x.CpuSeconds):0}")));
        string Memory(HandoffRun run) => string.Join(" + ", run.Processes.Select(x => I($"{x.PeakRssMiB:0}")));

        Console.WriteLine(I($"# vigil bench handoff — {r.Streams} live streams × {r.StreamSeconds:0} s of {HandoffClip.Width}×{HandoffClip.Height}p{HandoffClip.Fps} H.264 + AAC (MPEG-TS over TCP, ffmpeg -re)"));
        Console.WriteLine($"detectors (both runs): {string.Join(", ", r.Detectors)}");
        Console.WriteLine(I($"machine: {Environment.ProcessorCount} cores; load average {r.LoadBefore.One:0.0} before, {r.LoadAfter.One:0.0} after (1 min; other processes included)"));
        Console.WriteLine("objects: raw analysis luma + block-grid statistics + frame metadata per picture; float PCM + events + order per second; " +
                          "orchestration: SQLite (WAL), one transition per second from the converter and one per detector per stream-second");
        Console.WriteLine();
        Console.WriteLine("| per stream-hour | in memory (Vigil) | through object storage (first design) |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine(I($"| CPU seconds, all processes | {r.PerStreamHour(a.CpuSeconds):#,0} | {r.PerStreamHour(b.CpuSeconds):#,0} |"));
        Console.WriteLine($"| … by process | {Parts(a)} | {Parts(b)} |");
        Console.WriteLine(I($"| peak memory, MiB, sum over processes ({r.Streams} streams) | {a.PeakRssMiB:0} | {b.PeakRssMiB:0} ({Memory(b)}) |"));
        Console.WriteLine(I($"| bytes moved between processes, GB | 0 | {r.PerStreamHour(b.BytesMoved) / 1e9:0.0} |"));
        Console.WriteLine(I($"| object PUTs | {r.PerStreamHour(a.Puts):#,0} | {r.PerStreamHour(b.Puts):#,0} |"));
        Console.WriteLine(I($"| object GETs | {r.PerStreamHour(a.Gets):#,0} | {r.PerStreamHour(b.Gets):#,0} |"));
        Console.WriteLine(I($"| orchestration transitions | {r.PerStreamHour(a.TransitionCount):#,0} | {r.PerStreamHour(b.TransitionCount):#,0} |"));
        Console.WriteLine($"| cost: compute (${p.ComputePerVcpuHour.Price}/vCPU-hour) | {Usd(ca.Compute)} | {Usd(cb.Compute)} |");
        Console.WriteLine($"| cost: memory (${p.MemoryPerGibHour.Price}/GiB-hour) | {Usd(ca.Memory)} | {Usd(cb.Memory)} |");
        Console.WriteLine($"| cost: object PUTs (${p.ObjectPutPer1000.Price}/1,000) | {Usd(ca.Puts)} | {Usd(cb.Puts)} |");
        Console.WriteLine($"| cost: object GETs (${p.ObjectGetPer1000.Price}/1,000) | {Usd(ca.Gets)} | {Usd(cb.Gets)} |");
        Console.WriteLine($"| cost: transitions (${p.TransitionPer1000.Price}/1,000) | {Usd(ca.Transitions)} | {Usd(cb.Transitions)} |");
        Console.WriteLine($"| **cost per stream-hour, {p.Currency}** | **{Usd(ca.Total)}** | **{Usd(cb.Total)}** |");
        Console.WriteLine();
        Console.WriteLine(I($"reduction: {100 * r.Reduction:0.0} % (the first design costs {r.Ratio:0}× as much per stream-hour); ") +
                          I($"CPU alone: {100 * (1 - a.CpuSeconds / b.CpuSeconds):0} % less ({b.CpuSeconds / a.CpuSeconds:0.0}×)"));
        var kinds = a.Streams.SelectMany(s => s.Defects).Select(HandoffBench.KindOf).GroupBy(k => k).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"same defects in both runs: {a.DefectCount} ({string.Join(", ", kinds)}); pictures: {a.Frames} in each run; " +
                          $"stream-seconds put: {b.ConverterSeconds}");
        Console.WriteLine(I($"objects: {b.Puts} put and got, {b.BytesPut / (double)Math.Max(1, b.Puts) / 1000:0} kB each on average; ") +
                          I($"wall: in memory {a.WallSeconds:0.0} s, through object storage {b.WallSeconds:0.0} s for {r.StreamSeconds:0} s of stream") +
                          (Math.Max(a.WallSeconds, b.WallSeconds) > 1.1 * r.StreamSeconds ? " (a run that took longer fell behind real time: its TCP feeds waited)" : ""));
        Console.WriteLine($"prices ({p.Currency}; inputs to update: src/Vigil.Tools/Bench/prices.json, or --prices FILE):");
        foreach (var (name, price) in p.All) Console.WriteLine(I($"  {name} = {price.Price} — {price.Source}, as of {price.AsOf}"));
    }
}
