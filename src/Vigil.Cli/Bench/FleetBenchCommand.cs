using System.CommandLine;
using Vigil.Tools;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench fleet</c>: the fleet's control plane with synthetic pipelines (placing, re-placing a killed node's
/// share, store load, memory per idle pipeline) and live decoding split across two nodes by detector subset
/// against one node running everything (<see cref="FleetBench"/>).
/// </summary>
internal static class FleetBenchCommand
{
    public static Command Create()
    {
        var entities = new Option<int>("--entities") { Description = "(stream, group) pipelines of the control-plane run", DefaultValueFactory = _ => 5000 };
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the control-plane run (half video, half audio)", DefaultValueFactory = _ => 4 };
        var streams = new Option<int>("--streams", "-n") { Description = "Live 720p25 streams of the decoding run", DefaultValueFactory = _ => 16 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds of each run (after a warm-up)", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds to connect and settle before measuring", DefaultValueFactory = _ => 10 };
        var skipDecode = new Option<bool>("--no-decode") { Description = "Only the control plane" };
        var command = new Command("fleet", "Fleet nodes on a private PostgreSQL: control plane with synthetic pipelines, and decoding split by detector subset")
        {
            entities, nodes, streams, seconds, warmup, skipDecode,
        };
        command.SetAction(async (parse, cancel) => await RunAsync(parse.GetValue(entities), parse.GetValue(nodes), parse.GetValue(streams),
            parse.GetValue(seconds), parse.GetValue(warmup), !parse.GetValue(skipDecode), cancel));
        return command;
    }

    private static async Task<int> RunAsync(int entities, int nodes, int streams, int seconds, int warmup, bool decode, CancellationToken cancel)
    {
        try
        {
            return await MeasureAsync(entities, nodes, streams, seconds, warmup, decode, cancel);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException
                                      || (e is TaskCanceledException && !cancel.IsCancellationRequested)) // an HTTP timeout, not Ctrl-C
        {
            Console.Error.WriteLine($"vigil bench fleet: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> MeasureAsync(int entities, int nodes, int streams, int seconds, int warmup, bool decode, CancellationToken cancel)
    {
        await using var bench = FleetBench.Create();
        var cp = await bench.ControlPlaneAsync(entities, nodes, seconds, Console.Error, cancel);
        Console.WriteLine($"control plane: {cp.Entities} synthetic (stream, group) pipelines (no media, heartbeats only) on {cp.Nodes} nodes, one machine ({Environment.ProcessorCount} cores)");
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| place all {cp.Entities} pipelines | {cp.PlaceSeconds:0.0} s |");
        Console.WriteLine($"| re-place a killed node's share ({cp.Killed} pipelines, kill -9) | {cp.ReplaceSeconds:0.0} s |");
        Console.WriteLine($"| PostgreSQL statements per second, steady state (all nodes) | {cp.StatementsPerSecond:0} |");
        Console.WriteLine($"| PostgreSQL transactions per second, steady state (server) | {cp.TransactionsPerSecond:0} |");
        Console.WriteLine($"| memory per idle pipeline (RSS) | {cp.KibPerEntity:0.0} KiB |");
        Console.WriteLine($"| CPU of the nodes at steady state | {cp.CoresAtSteadyState:0.00} cores ({1000 * cp.CoresAtSteadyState / cp.Entities:0.000} millicores per pipeline) |");
        if (!decode) return 0;
        StreamsBench clip;
        try
        {
            clip = await StreamsBench.CreateAsync(Console.Error, cancel);
        }
        catch (FfmpegException e)
        {
            Console.Error.WriteLine($"vigil bench fleet: {e.Message}");
            return 1;
        }
        using (clip)
        {
            var d = await bench.DecodeSplitAsync(clip.Clip, streams, warmup, seconds, Console.Error, cancel);
            Console.WriteLine();
            Console.WriteLine($"decoding: {d.Streams} live 720p25 H.264 + AAC streams, every detector; one node against a video node + an audio+av.sync node");
            Console.WriteLine("| setup | CPU per stream | analysed fps per stream |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| one node, every detector | {d.SingleCoresPerStream:0.000} cores | {d.SingleFps:0.0} |");
            foreach (var (role, cores) in d.SplitCoresPerStream)
                Console.WriteLine($"| split: `{role}` node | {cores:0.000} cores | |");
            Console.WriteLine($"| split: both nodes | {d.SplitTotal:0.000} cores | {d.SplitFps:0.0} |");
            Console.WriteLine($"price of splitting (each node decodes what its detectors need; av.sync needs the picture too): x{d.Price:0.00} the CPU of one node");
        }
        return 0;
    }
}
