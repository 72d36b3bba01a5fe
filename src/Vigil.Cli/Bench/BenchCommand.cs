using System.CommandLine;
using System.Globalization;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench</c>: the benchmarks against the ffmpeg CLI (measured in Vigil.Tools, printed here as ratios of the same run).
/// Without a subcommand: video analysis at 1080p and 720p (<see cref="VideoBench"/>); <c>audio</c>, <c>streams</c> and <c>handoff</c> below it.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of each generated clip", DefaultValueFactory = _ => 60 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each command; the fastest counts", DefaultValueFactory = _ => 3 };
        var heights = new Option<string>("--sizes") { Description = "Clip heights to test (16:9, 30 fps)", DefaultValueFactory = _ => "1080,720" };
        var detectors = new Option<string>("--detectors") { Description = "Detectors Vigil runs", DefaultValueFactory = _ => VideoBenchOptions.DefaultDetectors };
        var vf = new Option<string>("--ffmpeg-vf") { Description = "The reference chain's video filters", DefaultValueFactory = _ => "blackdetect,freezedetect" };
        var af = new Option<string>("--ffmpeg-af") { Description = "The reference chain's audio filters ('' for none)", DefaultValueFactory = _ => "silencedetect" };
        var command = new Command("bench", "Benchmark Vigil against the ffmpeg CLI on generated clips (ratios, same run); " +
                                             "without a subcommand: video analysis at 1080p and 720p")
            { seconds, repeat, heights, detectors, vf, af, AudioBenchCommand.Create(), StreamsBenchCommand.Create(), SoakBenchCommand.Create(),
              HandoffBenchCommand.Create(), HandoffBenchCommand.CreateWorker(), FleetBenchCommand.Create(), TransportBenchCommand.Create() };
        command.SetAction(async (parse, cancel) =>
        {
            var sizes = parse.GetValue(heights)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            var options = new VideoBenchOptions(sizes, parse.GetValue(seconds), Math.Max(1, parse.GetValue(repeat)), parse.GetValue(detectors)!,
                parse.GetValue(vf)!, parse.GetValue(af)!);
            return await RunAsync(options, cancel);
        });
        return command;
    }

    /// <summary>Where the benchmarks keep their generated inputs between runs.</summary>
    public static string WorkDir => Path.Combine(Path.GetTempPath(), "vigil-bench");

    private static async Task<int> RunAsync(VideoBenchOptions options, CancellationToken cancel)
    {
        if (!File.Exists(MeasuredProcess.GnuTime))
        {
            await Console.Error.WriteLineAsync("vigil bench: needs GNU time (/usr/bin/time); run scripts/setup.sh");
            return 1;
        }
        bool audio;
        try { audio = VideoBench.DecodesAudio(options); }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"vigil bench: {e.Message}");
            return 2;
        }
        Console.WriteLine($"# vigil bench — {Environment.ProcessorCount} cores, one decode thread, best of {options.Repeat}, {options.Seconds} s clips");
        Console.WriteLine($"Vigil detectors: {options.Detectors}; ffmpeg {Media.MediaSource.FfmpegVersion}; " +
                          (audio ? "audio decoded by every run" : "no audio detector: no run decodes audio (ffmpeg -an)"));
        Console.WriteLine();
        Console.WriteLine("| clip | run | frames/s per core | ratio | frames/s per core after start-up | ratio | CPU s | start-up CPU s | peak RSS MB |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        try
        {
            // this process's own assembly is the vigil analyze the benchmark runs
            await foreach (var r in VideoBench.RunAsync(options, typeof(BenchCommand).Assembly.Location, WorkDir, Console.Error, cancel))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Width}×{r.Height} H.264 | {r.Run} | {r.FramesPerCpuSecond:0.0} | {r.Ratio:0.00}× | {r.SteadyFramesPerCpuSecond:0.0} | {r.SteadyRatio:0.00}× | " +
                    $"{r.Whole.CpuSeconds:0.00} | {r.Startup.CpuSeconds:0.00} | {r.Whole.PeakRssMb:0} |"));
        }
        catch (Tools.FfmpegException e)
        {
            await Console.Error.WriteLineAsync($"vigil bench: {e.Message}");
            return 1;
        }
        Console.WriteLine();
        Console.WriteLine("ratio: Vigil's frames/s per core divided by the row's (> 1: Vigil is faster). " +
                          "After start-up: (frames − frames of the 1 s clip) ÷ (CPU − CPU on the 1 s clip).");
        return 0;
    }
}
