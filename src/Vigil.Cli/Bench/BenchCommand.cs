using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench</c>: Vigil's whole analysis (decode + detectors) against the ffmpeg CLI doing the same
/// work, on generated H.264 clips, measured in the same run and reported as ratios. Throughput is frames
/// per CPU-second ("per core"), so a second thread is charged, not hidden. Each run is repeated and the
/// fastest kept, which is the least disturbed by whatever else the machine is doing.
/// </summary>
internal static class BenchCommand
{
    private const string Detectors = "video.black,video.freeze,audio.silence";

    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of each generated clip", DefaultValueFactory = _ => 30 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each command; the fastest counts", DefaultValueFactory = _ => 3 };
        var heights = new Option<string>("--sizes") { Description = "Clip heights to test (16:9, 30 fps)", DefaultValueFactory = _ => "1080,720" };
        var detectors = new Option<string>("--detectors") { Description = "Detectors Vigil runs", DefaultValueFactory = _ => Detectors };
        var command = new Command("bench", "Benchmark Vigil against the ffmpeg CLI on generated clips (ratios, same run)")
            { seconds, repeat, heights, detectors };
        command.SetAction(async (parse, cancel) =>
        {
            var sizes = parse.GetValue(heights)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            return await RunAsync(sizes, parse.GetValue(seconds), Math.Max(1, parse.GetValue(repeat)), parse.GetValue(detectors)!, cancel);
        });
        return command;
    }

    private static async Task<int> RunAsync(int[] heights, int seconds, int repeat, string detectors, CancellationToken cancel)
    {
        if (!File.Exists(MeasuredProcess.GnuTime))
        {
            await Console.Error.WriteLineAsync("vigil bench: needs GNU time (/usr/bin/time); run scripts/setup.sh");
            return 1;
        }
        var dir = Path.Combine(Path.GetTempPath(), "vigil-bench");
        Directory.CreateDirectory(dir);
        var self = typeof(BenchCommand).Assembly.Location;
        var rows = new List<string>();
        Console.WriteLine($"# vigil bench — {Environment.ProcessorCount} cores, one decode thread, best of {repeat}, {seconds} s clips");
        Console.WriteLine($"Vigil detectors: {detectors}; ffmpeg {Media.MediaSource.FfmpegVersion}");
        Console.WriteLine();
        Console.WriteLine("| clip | run | frames/s per core | CPU s | wall s | peak RSS MB | Vigil ÷ this |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var height in heights)
        {
            var width = height * 16 / 9;
            var clip = Path.Combine(dir, $"bench-{height}p30-{seconds}s.mp4");
            if (!File.Exists(clip))
            {
                await Console.Error.WriteLineAsync($"vigil bench: generating {clip}");
                var error = await Ffmpeg.RunAsync(
                    $"-y -v error -f lavfi -i testsrc2=size={width}x{height}:rate=30:duration={seconds} " +
                    $"-f lavfi -i sine=frequency=440:sample_rate=48000:duration={seconds} -ac 2 " +
                    $"-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -b:a 128k \"{clip}.tmp.mp4\"", cancel);
                if (error is not null) { await Console.Error.WriteLineAsync($"vigil bench: ffmpeg failed: {error}"); return 1; }
                File.Move(clip + ".tmp.mp4", clip);
            }

            var vigil = await BestAsync(repeat, () => MeasuredProcess.RunAsync("dotnet",
                [self, "analyze", clip, "--json", "--decode-threads", "1", "--detectors", detectors], cancel));
            var frames = FramesFromSummary(vigil.Stdout);
            var decode = await BestAsync(repeat, () => MeasuredProcess.RunAsync("ffmpeg",
                ["-v", "error", "-threads", "1", "-i", clip, "-f", "null", "-"], cancel));
            var chain = await BestAsync(repeat, () => MeasuredProcess.RunAsync("ffmpeg",
                ["-v", "error", "-threads", "1", "-i", clip, "-vf", "blackdetect,freezedetect", "-af", "silencedetect", "-f", "null", "-"], cancel));

            var label = $"{width}×{height} H.264";
            Console.WriteLine(Row(label, "Vigil analyze (decode + detectors)", frames, vigil, vigil));
            Console.WriteLine(Row(label, "ffmpeg decode only", frames, decode, vigil));
            Console.WriteLine(Row(label, "ffmpeg blackdetect,freezedetect + silencedetect", frames, chain, vigil));
        }
        Console.WriteLine();
        Console.WriteLine("Vigil ÷ this: Vigil's frames/s per core divided by the row's (> 1: Vigil is faster).");
        return 0;
    }

    private static async Task<ProcessCost> BestAsync(int repeat, Func<Task<ProcessCost>> run)
    {
        ProcessCost? best = null;
        for (var i = 0; i < repeat; i++)
        {
            var cost = await run();
            if (best is null || cost.CpuSeconds < best.CpuSeconds) best = cost;
        }
        return best!;
    }

    private static long FramesFromSummary(string stdout)
    {
        var summary = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        using var doc = JsonDocument.Parse(summary);
        return doc.RootElement.GetProperty("video").GetProperty("frames").GetInt64();
    }

    private static string Row(string clip, string run, long frames, ProcessCost cost, ProcessCost vigil)
    {
        var fps = frames / cost.CpuSeconds;
        var ratio = (frames / vigil.CpuSeconds) / fps;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {clip} | {run} | {fps:0.0} | {cost.CpuSeconds:0.00} | {cost.WallSeconds:0.00} | {cost.PeakRssMb:0} | {ratio:0.00}× |");
    }
}
