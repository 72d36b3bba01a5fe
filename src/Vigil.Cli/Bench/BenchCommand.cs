using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vigil.Detectors;

namespace Vigil.Cli.Bench;

/// <summary>
/// <c>vigil bench</c>: Vigil's whole analysis (decode + detectors) against the ffmpeg CLI doing the same
/// work, on generated H.264 clips, measured in the same run and reported as ratios. Throughput is frames
/// per CPU-second ("per core"), so a second thread is charged, not hidden. Each run is repeated and the
/// fastest kept, which is the least disturbed by whatever else the machine is doing. Every command
/// also runs on a 1 s clip made the same way: subtracting that fixed cost (process start, JIT, probing)
/// gives the per-frame cost a long-running monitor pays, reported beside the whole-run figure.
/// </summary>
internal static class BenchCommand
{
    private const string Detectors = "video.black,video.freeze,audio.silence";

    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of each generated clip", DefaultValueFactory = _ => 60 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each command; the fastest counts", DefaultValueFactory = _ => 3 };
        var heights = new Option<string>("--sizes") { Description = "Clip heights to test (16:9, 30 fps)", DefaultValueFactory = _ => "1080,720" };
        var detectors = new Option<string>("--detectors") { Description = "Detectors Vigil runs", DefaultValueFactory = _ => Detectors };
        var vf = new Option<string>("--ffmpeg-vf") { Description = "The reference chain's video filters", DefaultValueFactory = _ => "blackdetect,freezedetect" };
        var af = new Option<string>("--ffmpeg-af") { Description = "The reference chain's audio filters ('' for none)", DefaultValueFactory = _ => "silencedetect" };
        var command = new Command("bench", "Benchmark Vigil against the ffmpeg CLI on generated clips (ratios, same run); " +
                                             "without a subcommand: video analysis at 1080p and 720p")
            { seconds, repeat, heights, detectors, vf, af, AudioCommand(), StreamsBench.Create() };
        command.SetAction(async (parse, cancel) =>
        {
            var sizes = parse.GetValue(heights)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            return await RunAsync(sizes, parse.GetValue(seconds), Math.Max(1, parse.GetValue(repeat)), parse.GetValue(detectors)!,
                parse.GetValue(vf)!, parse.GetValue(af)!, cancel);
        });
        return command;
    }

    /// <summary><c>vigil bench audio</c>: audio analysis cost per stream-hour against the ffmpeg filter chain.</summary>
    private static Command AudioCommand()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of the generated programme audio", DefaultValueFactory = _ => 600 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each side; the fastest counts", DefaultValueFactory = _ => 2 };
        var command = new Command("audio", $"Audio analysis (silence, loudness, clipping, summary meter) vs ffmpeg -af {AudioBench.FfmpegChain}")
            { seconds, repeat };
        command.SetAction(async (parse, cancel) =>
        {
            var r = await AudioBench.RunAsync(Path.Combine(Path.GetTempPath(), "vigil-bench"), Console.Error, cancel,
                parse.GetValue(seconds), Math.Max(1, parse.GetValue(repeat)));
            Console.WriteLine($"# vigil bench audio — {r.MediaSeconds / 60:0.#} min stereo 48 kHz AAC, best of {Math.Max(1, parse.GetValue(repeat))}");
            Console.WriteLine();
            Console.WriteLine("| run | CPU s | CPU s per stream-hour | ratio |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Vigil (decode + silence, loudness, clipping, summary meter) | {r.Vigil.CpuSeconds:0.00} | {r.VigilCpuPerStreamHour:0.0} | 1.00× |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ffmpeg -af {AudioBench.FfmpegChain} | {r.Ffmpeg.CpuSeconds:0.00} | {r.FfmpegCpuPerStreamHour:0.0} | {r.Ratio:0.00}× |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ffmpeg decode only | {r.DecodeOnlyCpuSeconds:0.00} | {r.DecodeOnlyCpuPerStreamHour:0.0} | |"));
            Console.WriteLine();
            Console.WriteLine("ratio: the row's CPU divided by Vigil's (> 1: Vigil is cheaper).");
            return 0;
        });
        return command;
    }

    private static async Task<int> RunAsync(int[] heights, int seconds, int repeat, string detectors, string vf, string af, CancellationToken cancel)
    {
        if (!File.Exists(MeasuredProcess.GnuTime))
        {
            await Console.Error.WriteLineAsync("vigil bench: needs GNU time (/usr/bin/time); run scripts/setup.sh");
            return 1;
        }
        // Both sides do the same work: when no selected detector listens to audio, Vigil decodes none, so
        // neither do the ffmpeg runs (-an).
        bool audio;
        try { audio = DetectorCatalog.NeedsAudio(DetectorCatalog.Select(detectors)); }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"vigil bench: {e.Message}");
            return 2;
        }
        if (!audio && af.Length > 0)
        {
            await Console.Error.WriteLineAsync($"vigil bench: --ffmpeg-af '{af}' filters audio, but none of '{detectors}' listens to audio; pass --ffmpeg-af \"\"");
            return 2;
        }
        string[] ffmpegAudio = audio ? [] : ["-an"];
        var dir = Path.Combine(Path.GetTempPath(), "vigil-bench");
        Directory.CreateDirectory(dir);
        var self = typeof(BenchCommand).Assembly.Location;
        var rows = new List<string>();
        Console.WriteLine($"# vigil bench — {Environment.ProcessorCount} cores, one decode thread, best of {repeat}, {seconds} s clips");
        Console.WriteLine($"Vigil detectors: {detectors}; ffmpeg {Media.MediaSource.FfmpegVersion}; " +
                          (audio ? "audio decoded by every run" : "no audio detector: no run decodes audio (ffmpeg -an)"));
        Console.WriteLine();
        Console.WriteLine("| clip | run | frames/s per core | ratio | frames/s per core after start-up | ratio | CPU s | start-up CPU s | peak RSS MB |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var height in heights)
        {
            var width = height * 16 / 9;
            var clip = await ClipAsync(dir, width, height, seconds, cancel);
            var cut = await ClipAsync(dir, width, height, 1, cancel);
            if (clip is null || cut is null) return 1;

            var runs = new (string Name, Func<string, Task<ProcessCost>> Run)[]
            {
                ("Vigil analyze (decode + detectors)", c => MeasuredProcess.RunAsync("dotnet",
                    [self, "analyze", c, "--json", "--decode-threads", "1", "--detectors", detectors], cancel)),
                ("ffmpeg decode only", c => MeasuredProcess.RunAsync("ffmpeg",
                    ["-v", "error", "-threads", "1", "-i", c, .. ffmpegAudio, "-f", "null", "-"], cancel)),
                ($"ffmpeg {vf}{(af.Length > 0 ? " + " + af : "")}", c => MeasuredProcess.RunAsync("ffmpeg",
                    ReferenceChain(c, vf, af, ffmpegAudio), cancel)),
            };
            var results = new List<(string Name, ProcessCost Whole, ProcessCost Startup)>();
            foreach (var (name, run) in runs)
                results.Add((name, await BestAsync(repeat, () => run(clip)), await BestAsync(repeat, () => run(cut))));
            var frames = FramesFromSummary(results[0].Whole.Stdout);
            var cutFrames = FramesFromSummary(results[0].Startup.Stdout);
            var vigil = Throughput(results[0], frames, cutFrames);
            foreach (var r in results)
            {
                var t = Throughput(r, frames, cutFrames);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {width}×{height} H.264 | {r.Name} | {t.Whole:0.0} | {vigil.Whole / t.Whole:0.00}× | {t.Steady:0.0} | {vigil.Steady / t.Steady:0.00}× | " +
                    $"{r.Whole.CpuSeconds:0.00} | {r.Startup.CpuSeconds:0.00} | {r.Whole.PeakRssMb:0} |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine("ratio: Vigil's frames/s per core divided by the row's (> 1: Vigil is faster). " +
                          "After start-up: (frames − frames of the 1 s clip) ÷ (CPU − CPU on the 1 s clip).");
        return 0;
    }

    private static string[] ReferenceChain(string clip, string vf, string af, string[] audio) =>
        ["-v", "error", "-threads", "1", "-i", clip, "-vf", vf, .. audio, .. (af.Length > 0 ? new[] { "-af", af } : []), "-f", "null", "-"];

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

    private static (double Whole, double Steady) Throughput((string Name, ProcessCost Whole, ProcessCost Startup) run, long frames, long cutFrames) =>
        (frames / run.Whole.CpuSeconds, (frames - cutFrames) / Math.Max(1e-3, run.Whole.CpuSeconds - run.Startup.CpuSeconds));

    /// <summary>A testsrc2 clip with a stereo tone, H.264 + AAC, cached between runs.</summary>
    private static async Task<string?> ClipAsync(string dir, int width, int height, int seconds, CancellationToken cancel)
    {
        var clip = Path.Combine(dir, $"bench-{height}p30-{seconds}s.mp4");
        if (File.Exists(clip)) return clip;
        await Console.Error.WriteLineAsync($"vigil bench: generating {clip}");
        var error = await Ffmpeg.RunAsync(
            $"-y -v error -f lavfi -i testsrc2=size={width}x{height}:rate=30:duration={seconds} " +
            $"-f lavfi -i sine=frequency=440:sample_rate=48000:duration={seconds} -ac 2 " +
            $"-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -b:a 128k \"{clip}.tmp.mp4\"", cancel);
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"vigil bench: ffmpeg failed: {error}");
            return null;
        }
        File.Move(clip + ".tmp.mp4", clip);
        return clip;
    }
}
