using System.CommandLine;
using System.Globalization;
using Vigil.Tools.Corpus;
using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Detectors.Sync;

namespace Vigil.Cli;

/// <summary>
/// <c>vigil corpus</c>: generates the labelled video corpus (ffmpeg CLI), runs it through Vigil and
/// through FFmpeg's references, and prints precision / recall / F1 per defect kind, frame by frame.
/// </summary>
internal static class CorpusCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = "Where the clips go (default: a folder under the temp directory; existing clips are reused)" };
        var noFfmpeg = new Option<bool>("--no-ffmpeg") { Description = "Skip the FFmpeg blockdetect reference run" };
        var trace = new Option<bool>("--trace") { Description = "Print per-frame evidence for every clip (tuning)" };
        var settings = new Option<string[]>("--set", "-s") { Description = "Detector thresholds as kind.option=value, as for analyze" };
        var part = new Option<string>("--part") { Description = "Which corpus: video, audio or all", DefaultValueFactory = _ => "all" };
        part.AcceptOnlyFromAmong("all", "video", "audio");
        var threads = new Option<int>("--decode-threads") { Description = "Video decode threads (0: one per core, as analyze)", DefaultValueFactory = _ => 0 };
        var repeat = new Option<int>("--runs") { Description = "Analyse every video clip this many times: the defect lines must be identical", DefaultValueFactory = _ => 5 };
        var command = new Command("corpus", "Generate the labelled video and audio corpus and score Vigil (and FFmpeg) on it")
            { dir, noFfmpeg, trace, settings, part, threads, repeat, ClippingDepthCommand() };
        command.SetAction(async (parse, cancel) =>
        {
            var directory = parse.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), "vigil-corpus");
            DetectorSettings detectorSettings;
            try
            {
                detectorSettings = DetectorSettings.Parse(parse.GetValue(settings) ?? []);
                DetectorCatalog.Validate(detectorSettings);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"vigil: {e.Message}");
                return AnalyzeCommand.ExitUsage;
            }
            var which = parse.GetValue(part);
            if (which is "all" or "audio") await AudioAsync(Path.Combine(directory, "audio"), detectorSettings, cancel);
            if (which == "audio") return 0;
            await Console.Error.WriteLineAsync($"vigil corpus: generating clips in {directory}");
            var clips = await new CorpusGenerator(directory).GenerateAsync(cancel);
            if (parse.GetValue(repeat) is < 1 or > 100)
            {
                await Console.Error.WriteLineAsync("vigil: --runs must be 1 to 100");
                return AnalyzeCommand.ExitUsage;
            }
            var runs = await CorpusScorer.RunAsync(clips, detectorSettings, withFfmpeg: !parse.GetValue(noFfmpeg),
                decodeThreads: parse.GetValue(threads), runs: parse.GetValue(repeat), cancel: cancel);
            foreach (var run in runs)
            {
                var truth = run.Frames.Count(f => run.Clip.IsDamaged(f.Pts) || run.Clip.IsBlocky(f.Pts) || run.Clip.IsOutOfSync(f.Pts));
                var answers = run.Answers == 1 ? "" : $"; {run.Answers} DIFFERENT ANSWERS over {run.Runs} runs";
                Console.WriteLine($"{run.Clip.Name,-26} {run.Clip.Description}; {run.Frames.Count} frames, {truth} defective by construction{answers}");
                var kind = run.Clip.Role switch
                {
                    ClipRole.Corruption => CorruptionDetector.KindName,
                    ClipRole.Blockiness => BlockinessDetector.KindName,
                    ClipRole.Sync => AvSyncDetector.KindName,
                    _ => null,
                };
                if (kind is not null && CorpusScorer.ScoreClip(run, kind) is { } score)
                    Console.WriteLine($"    {kind}: {score.TruePositives} frames found, {score.FalsePositives} false, {score.FalseNegatives} missed");
                foreach (var d in run.Defects)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {d.Kind} {d.Start:0.000}-{d.End:0.000} {string.Join(" ", (d.Details ?? new Dictionary<string, double>()).Select(p => $"{p.Key}={p.Value}"))}"));
                if (!parse.GetValue(trace)) continue;
                foreach (var f in run.Frames)
                {
                    var c = f.Corruption;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"      {f.Pts,7:0.000} {f.Type,-2} truth={(run.Clip.IsDamaged(f.Pts) ? 'D' : run.Clip.IsBlocky(f.Pts) ? 'B' : '.')} " +
                        $"flags={(c.DecoderFlags ? 1 : 0)} ev={(c.BitstreamEvents ? 1 : 0)} gap={(c.TimestampGap ? 1 : 0)} " +
                        $"new={c.NewEdgeFraction:0.000} glob={c.GlobalChange,3:0} dmg={(c.Damaged ? 1 : 0)} block={f.BlockScore:0.00} " +
                        $"ff={(run.BlockDetect.TryGetValue(CorpusClip.Key(f.Pts), out var b) ? b : double.NaN):0.0}"));
                }
            }
            Console.WriteLine();
            var unstable = runs.Where(r => r.Answers > 1).Select(r => r.Clip.Name).ToList();
            Console.WriteLine(unstable.Count == 0
                ? $"Same answer: {runs.Count} clips, {runs[0].Runs} runs each, identical defect lines"
                : $"DIFFERENT ANSWERS on {unstable.Count} of {runs.Count} clips over {runs[0].Runs} runs: {string.Join(", ", unstable)}");
            Console.WriteLine("Frame-level scores (a frame is predicted defective when it lies inside a reported interval):");
            Console.WriteLine(CorpusScorer.Table(CorpusScorer.Score(runs)));
            return 0;
        });
        return command;
    }

    /// <summary><c>vigil corpus clipping-depth</c>: detection of clipping against its depth per codec, the README's table.</summary>
    private static Command ClippingDepthCommand()
    {
        var dir = new Option<string?>("--dir") { Description = "Where the clips go (default: a folder under the temp directory; existing clips are reused)" };
        var command = new Command("clipping-depth", "Clipping found against clip depth (+1..+12 dB over full scale) for PCM, AAC, MP2, AC-3, Opus, and the traps") { dir };
        command.SetAction(async (parse, cancel) =>
        {
            var directory = parse.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), "vigil-corpus", "clipping-depth");
            var results = await ClippingDepths.RunAsync(directory, Console.Error, cancel);
            Console.WriteLine($"Clipped clips found (a defect over at least half of the 2 s clipped stretch) of {ClippingDepths.Signals.Length} signals per cell; " +
                              $"traps: the signals unclipped at −0.2 dBFS and a brick-wall-limited programme.");
            Console.WriteLine();
            Console.Write(ClippingDepths.Table(results));
            return 0;
        });
        return command;
    }

    /// <summary>The audio corpus: every clip analysed five times; time-level scores per kind.</summary>
    private static async Task AudioAsync(string directory, DetectorSettings settings, CancellationToken cancel)
    {
        await Console.Error.WriteLineAsync($"vigil corpus: generating audio clips in {directory}");
        var clips = await new AudioCorpusGenerator(directory).GenerateAsync(cancel);
        var runs = await AudioCorpusScorer.RunAsync(clips, settings, repeats: 5, cancel: cancel);
        foreach (var run in runs)
        {
            var truth = run.Clip.Kind is null ? "trap" : $"{run.Clip.Kind} {string.Join(", ", run.Clip.Truth.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Start:0.##}-{t.End:0.##}")))}" +
                                                         (run.Clip.Channel is { } c ? $" channel {c}" : "");
            Console.WriteLine($"{run.Clip.Name,-28} {run.Clip.Description}; {truth}{(run.Identical ? "" : "; RUNS DIFFER")}");
            foreach (var d in run.Defects) Console.WriteLine($"    {AudioClipRun.Line(d)}");
        }
        Console.WriteLine();
        Console.WriteLine($"Audio, time-level scores ({AudioCorpusScorer.Step * 1000:0} ms steps inside a reported interval of the kind):");
        Console.WriteLine(CorpusScorer.Table(AudioCorpusScorer.Score(runs)));
        Console.WriteLine();
    }
}
