using System.Runtime.CompilerServices;
using System.Text.Json;
using Vigil.Detectors;

namespace Vigil.Tools.Bench;

/// <summary>What <see cref="VideoBench"/> measures: clip heights (16:9, 30 fps), their length, runs per command, and both sides' work.</summary>
/// <param name="Heights">Clip heights; the width is 16:9.</param>
/// <param name="Seconds">Length of each generated clip.</param>
/// <param name="Repeat">Runs of each command; the least CPU counts.</param>
/// <param name="Detectors">The detectors Vigil runs (as <c>analyze --detectors</c>).</param>
/// <param name="FfmpegVideoFilters">The reference chain's <c>-vf</c>.</param>
/// <param name="FfmpegAudioFilters">The reference chain's <c>-af</c> ("" for none).</param>
public sealed record VideoBenchOptions(int[] Heights, int Seconds, int Repeat, string Detectors, string FfmpegVideoFilters, string FfmpegAudioFilters)
{
    /// <summary>The detectors the benchmark runs by default.</summary>
    public const string DefaultDetectors = "video.black,video.freeze,audio.silence";
}

/// <summary>One command on one clip: its throughput over the whole run and after start-up, and its ratio against Vigil's.</summary>
/// <param name="Width">Clip width.</param>
/// <param name="Height">Clip height.</param>
/// <param name="Run">What ran.</param>
/// <param name="FramesPerCpuSecond">Frames ÷ CPU seconds of the whole run.</param>
/// <param name="Ratio">Vigil's <see cref="FramesPerCpuSecond"/> ÷ this row's (> 1: Vigil is faster).</param>
/// <param name="SteadyFramesPerCpuSecond">(frames − frames of the 1 s clip) ÷ (CPU − CPU on the 1 s clip).</param>
/// <param name="SteadyRatio">Vigil's <see cref="SteadyFramesPerCpuSecond"/> ÷ this row's.</param>
/// <param name="Whole">The best run on the clip.</param>
/// <param name="Startup">The best run on the 1 s clip.</param>
public sealed record VideoBenchRow(int Width, int Height, string Run, double FramesPerCpuSecond, double Ratio,
    double SteadyFramesPerCpuSecond, double SteadyRatio, ProcessCost Whole, ProcessCost Startup);

/// <summary>
/// Vigil's whole analysis (decode + detectors, the <c>vigil analyze</c> process) against the ffmpeg CLI doing the same
/// work, on generated H.264 clips, measured in the same run and reported as ratios. Throughput is frames
/// per CPU-second ("per core"), so a second thread is charged, not hidden. Each run is repeated and the
/// fastest kept, which is the least disturbed by whatever else the machine is doing. Every command
/// also runs on a 1 s clip made the same way: subtracting that fixed cost (process start, JIT, probing)
/// gives the per-frame cost a long-running monitor pays, reported beside the whole-run figure.
/// </summary>
public static class VideoBench
{
    /// <summary>
    /// Whether the runs decode audio: both sides do the same work, so when no selected detector listens to audio,
    /// Vigil decodes none, and neither do the ffmpeg runs (<c>-an</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown detectors, or audio filters for detectors that decode no audio.</exception>
    public static bool DecodesAudio(VideoBenchOptions options)
    {
        var audio = DetectorCatalog.NeedsAudio(DetectorCatalog.Select(options.Detectors));
        if (!audio && options.FfmpegAudioFilters.Length > 0)
            throw new ArgumentException($"--ffmpeg-af '{options.FfmpegAudioFilters}' filters audio, but none of '{options.Detectors}' listens to audio; pass --ffmpeg-af \"\"");
        return audio;
    }

    /// <summary>
    /// Generates the clips (cached in <paramref name="workDir"/>) and yields the rows of each clip as soon as they are measured.
    /// </summary>
    /// <param name="options">What to measure.</param>
    /// <param name="vigilCli">The <c>vigil</c> CLI assembly run as <c>dotnet {vigilCli} analyze</c>.</param>
    /// <param name="workDir">Where the generated clips are kept between runs.</param>
    /// <param name="log">Progress (clip generation).</param>
    /// <param name="cancel">Stops the run.</param>
    public static async IAsyncEnumerable<VideoBenchRow> RunAsync(VideoBenchOptions options, string vigilCli, string workDir, TextWriter log,
        [EnumeratorCancellation] CancellationToken cancel = default)
    {
        string[] ffmpegAudio = DecodesAudio(options) ? [] : ["-an"];
        var (detectors, vf, af) = (options.Detectors, options.FfmpegVideoFilters, options.FfmpegAudioFilters);
        Directory.CreateDirectory(workDir);
        foreach (var height in options.Heights)
        {
            var width = height * 16 / 9;
            var clip = await ClipAsync(workDir, width, height, options.Seconds, log, cancel);
            var cut = await ClipAsync(workDir, width, height, 1, log, cancel);

            var runs = new (string Name, Func<string, Task<ProcessCost>> Run)[]
            {
                ("Vigil analyze (decode + detectors)", c => MeasuredProcess.RunAsync("dotnet",
                    [vigilCli, "analyze", c, "--json", "--decode-threads", "1", "--detectors", detectors], cancel)),
                ("ffmpeg decode only", c => MeasuredProcess.RunAsync("ffmpeg",
                    ["-v", "error", "-threads", "1", "-i", c, .. ffmpegAudio, "-f", "null", "-"], cancel)),
                ($"ffmpeg {vf}{(af.Length > 0 ? " + " + af : "")}", c => MeasuredProcess.RunAsync("ffmpeg",
                    ReferenceChain(c, vf, af, ffmpegAudio), cancel)),
            };
            var results = new List<(string Name, ProcessCost Whole, ProcessCost Startup)>();
            foreach (var (name, run) in runs)
                results.Add((name, await BestAsync(options.Repeat, () => run(clip)), await BestAsync(options.Repeat, () => run(cut))));
            var frames = FramesFromSummary(results[0].Whole.Stdout);
            var cutFrames = FramesFromSummary(results[0].Startup.Stdout);
            var vigil = Throughput(results[0], frames, cutFrames);
            foreach (var r in results)
            {
                var t = Throughput(r, frames, cutFrames);
                yield return new VideoBenchRow(width, height, r.Name, t.Whole, vigil.Whole / t.Whole, t.Steady, vigil.Steady / t.Steady, r.Whole, r.Startup);
            }
        }
    }

    private static string[] ReferenceChain(string clip, string vf, string af, string[] audio) =>
        ["-v", "error", "-threads", "1", "-i", clip, "-vf", vf, .. audio, .. (af.Length > 0 ? new[] { "-af", af } : []), "-f", "null", "-"];

    private static async Task<ProcessCost> BestAsync(int repeat, Func<Task<ProcessCost>> run)
    {
        ProcessCost? best = null;
        for (var i = 0; i < Math.Max(1, repeat); i++)
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
    private static async Task<string> ClipAsync(string dir, int width, int height, int seconds, TextWriter log, CancellationToken cancel)
    {
        var clip = Path.Combine(dir, $"bench-{height}p30-{seconds}s.mp4");
        if (File.Exists(clip)) return clip;
        await log.WriteLineAsync($"vigil bench: generating {clip}");
        await FfmpegCli.RunAsync(
            $"-y -v error -f lavfi -i testsrc2=size={width}x{height}:rate=30:duration={seconds} " +
            $"-f lavfi -i sine=frequency=440:sample_rate=48000:duration={seconds} -ac 2 " +
            $"-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -b:a 128k \"{clip}.tmp.mp4\"", cancel);
        File.Move(clip + ".tmp.mp4", clip);
        return clip;
    }
}
