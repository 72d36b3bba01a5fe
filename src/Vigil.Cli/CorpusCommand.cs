using System.CommandLine;
using System.Globalization;
using Vigil.Tools.Corpus;
using Vigil.Detectors;

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
        var command = new Command("corpus", "Generate the labelled video corpus and score Vigil and FFmpeg on it") { dir, noFfmpeg, trace, settings };
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
            await Console.Error.WriteLineAsync($"vigil corpus: generating clips in {directory}");
            var clips = await new CorpusGenerator(directory).GenerateAsync(cancel);
            var runs = await CorpusScorer.RunAsync(clips, detectorSettings, withFfmpeg: !parse.GetValue(noFfmpeg), cancel);
            foreach (var run in runs)
            {
                var truth = run.Frames.Count(f => run.Clip.IsDamaged(f.Pts) || run.Clip.IsBlocky(f.Pts));
                Console.WriteLine($"{run.Clip.Name,-18} {run.Clip.Description}; {run.Frames.Count} frames, {truth} defective by construction");
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
            Console.WriteLine("Frame-level scores (a frame is predicted defective when it lies inside a reported interval):");
            Console.WriteLine(CorpusScorer.Table(CorpusScorer.Score(runs)));
            return 0;
        });
        return command;
    }
}
