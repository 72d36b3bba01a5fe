using System.CommandLine;
using Vigil.Tools;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench soak --streams 8 --minutes 10</c>: live streams monitored by an in-process <c>vigil serve</c>
/// with faults injected on a cycle (<see cref="SoakBench"/>): resident memory over the run, stall detection
/// delay, first webhook redelivery after the receiver is back.
/// </summary>
internal static class SoakBenchCommand
{
    public static Command Create()
    {
        var streams = new Option<int>("--streams", "-n") { Description = "Concurrent live streams (at least 4)", DefaultValueFactory = _ => 8 };
        var minutes = new Option<double>("--minutes") { Description = "Length of the soak", DefaultValueFactory = _ => 10 };
        var command = new Command("soak", "Live streams under injected faults for minutes: memory over time, stall detection delay, webhook redelivery")
        {
            streams, minutes,
        };
        command.SetAction(async (parse, cancel) => await RunAsync(parse.GetValue(streams), parse.GetValue(minutes), cancel));
        return command;
    }

    private static async Task<int> RunAsync(int count, double minutes, CancellationToken cancel)
    {
        SoakBench bench;
        try
        {
            bench = await SoakBench.CreateAsync(Console.Error, cancel);
        }
        catch (FfmpegException e)
        {
            Console.Error.WriteLine($"vigil bench soak: {e.Message}");
            return 1;
        }
        using (bench)
        {
            SoakResult r;
            try
            {
                r = await bench.RunAsync(count, minutes, Console.Error, cancel);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"vigil bench soak: {e.Message}");
                return 2;
            }
            Console.WriteLine($"soak: {count} live streams (640x360 H.264/AAC, all detectors), {minutes} min, machine {Environment.ProcessorCount} cores");
            Console.WriteLine($"faults every {SoakBench.CycleSeconds:0} s: sender killed 10 s, 5 s garbage burst, H.264<->MPEG-2 switch, sender restart, pipeline restart (PATCH), webhook receiver down 10 s, 20 SSE clients in and out");
            // anon = heaps (managed, C, stacks), file = code and mapped files; malloc = the C heap: in use, and free but held by its arenas
            Console.WriteLine("t_s    rss_MiB  anon_MiB  file_MiB  heap_MiB  malloc_used  malloc_free  events  shed");
            foreach (var s in r.Samples)
                Console.WriteLine($"{s.Seconds,5:0} {s.RssMiB,8:0.0} {s.Memory.AnonMiB,9:0.0} {s.Memory.FileMiB,9:0.0} {s.ManagedHeapMiB,9:0.0} {s.Memory.MallocInUseMiB,12:0.0} {s.Memory.MallocFreeMiB,12:0.0} {s.Events,7} {s.Shed,5}");
            var firstMinute = r.Samples.Where(s => s.Seconds < 60).Select(s => s.RssMiB).DefaultIfEmpty(0).Average();
            var lastMinute = r.Samples.Where(s => s.Seconds >= r.Samples[^1].Seconds - 60).Select(s => s.RssMiB).DefaultIfEmpty(0).Average();
            var afterWarmup = r.Samples.Where(s => s.Seconds >= 120).ToList();
            Console.WriteLine($"RSS: first minute {firstMinute:0.0} MiB, last minute {lastMinute:0.0} MiB, peak {r.Samples.Max(s => s.RssMiB):0.0} MiB; " +
                              $"slope after 2 min {Slope(afterWarmup) * 600:+0.0;-0.0} MiB per 10 min");
            Console.WriteLine($"memory with no stream: at the start RSS {Line(r.Started)}; after the service stopped {Line(r.Stopped)}; after malloc_trim {Line(r.Trimmed)}");
            var first = r.Samples.Where(s => s.Seconds >= 120).DefaultIfEmpty(r.Samples[0]).First();
            var last = r.Samples[^1];
            Console.WriteLine($"from {first.Seconds:0} s to {last.Seconds:0} s: RSS {last.RssMiB - first.RssMiB:+0.0;-0.0} MiB = anon {last.Memory.AnonMiB - first.Memory.AnonMiB:+0.0;-0.0} + file {last.Memory.FileMiB - first.Memory.FileMiB:+0.0;-0.0}; " +
                              $"managed heap {last.ManagedHeapMiB - first.ManagedHeapMiB:+0.0;-0.0}, malloc in use {last.Memory.MallocInUseMiB - first.Memory.MallocInUseMiB:+0.0;-0.0}, malloc free held {last.Memory.MallocFreeMiB - first.Memory.MallocFreeMiB:+0.0;-0.0} MiB");
            Console.WriteLine($"stall detection (sender killed -> SSE stream.stall, stall time 2 s): {Summary(r.StallDelays)}");
            Console.WriteLine($"first webhook redelivery after the receiver came back: {Summary(r.RedeliveryDelays)}");
            Console.WriteLine($"codec changes reported: {r.CodecChanges}; webhook requests answered: {r.Delivered}; pending at the end: {r.PendingAtEnd}; SSE refused: {r.SseRefused}");
            return 0;
        }
    }

    private static string Line(ProcessMemory m) => $"{m.RssMiB:0.0} MiB (malloc in use {m.MallocInUseMiB:0.0}, free held {m.MallocFreeMiB:0.0})";

    private static string Summary(IReadOnlyList<double> values) =>
        values.Count == 0 ? "none measured" : $"median {Median(values):0.00} s, max {values.Max():0.00} s over {values.Count}";

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Least-squares slope of RSS over time (MiB per second).</summary>
    private static double Slope(IReadOnlyList<SoakSample> samples)
    {
        if (samples.Count < 2) return 0;
        var mt = samples.Average(s => s.Seconds);
        var mr = samples.Average(s => s.RssMiB);
        var num = samples.Sum(s => (s.Seconds - mt) * (s.RssMiB - mr));
        var den = samples.Sum(s => (s.Seconds - mt) * (s.Seconds - mt));
        return den == 0 ? 0 : num / den;
    }
}
