using System.Globalization;
using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tools.Corpus;

/// <summary>Frame-level confusion counts of one tool on one defect kind, plus false events on the trap clips.</summary>
public sealed record KindScore(string Kind, string Tool, int TruePositives, int FalsePositives, int FalseNegatives, int FalseEventsOnTraps, string Note = "")
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : TruePositives / (double)(TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : TruePositives / (double)(TruePositives + FalseNegatives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>What one clip produced: every frame with its flags, Vigil's defects, FFmpeg's blockdetect values.</summary>
public sealed record ClipRun(CorpusClip Clip, IReadOnlyList<FrameRecord> Frames, IReadOnlyList<Defect> Defects, IReadOnlyDictionary<long, double> BlockDetect);

/// <summary>A decoded frame as the scorer saw it.</summary>
public readonly record struct FrameRecord(double Pts, double Duration, bool Flagged, PictureType Type, CorruptionEvidence Corruption, double BlockScore);

/// <summary>
/// Runs the corpus through Vigil (video.corruption, video.blockiness, one decode thread) and through
/// the references, and scores both frame by frame: a frame is predicted defective when it lies inside
/// a reported interval. References: for corruption FFmpeg has no filter, so the decoder's own flags
/// (decode_error_flags, AV_FRAME_FLAG_CORRUPT) are scored as the prediction; for blockiness FFmpeg's
/// blockdetect, thresholded at the value that maximises its F1 on this corpus (an oracle in its favour).
/// </summary>
public static class CorpusScorer
{
    public static async Task<IReadOnlyList<ClipRun>> RunAsync(IEnumerable<CorpusClip> clips, DetectorSettings? settings = null,
        bool withFfmpeg = true, CancellationToken cancel = default)
    {
        var runs = new List<ClipRun>();
        foreach (var clip in clips)
        {
            FrameRecorder recorder;
            var collector = new DefectCollector();
            using (var source = MediaSource.Open(clip.Path, new MediaOpenOptions { DecodeThreads = 1, Audio = false }))
            {
                var selected = DetectorCatalog.Select($"{CorruptionDetector.KindName},{BlockinessDetector.KindName}");
                var detectors = DetectorCatalog.Create(selected, new DetectorContext(source.Info, collector, settings ?? DetectorSettings.Empty));
                recorder = new FrameRecorder(detectors.OfType<CorruptionDetector>().Single(), detectors.OfType<BlockinessDetector>().Single());
                await new StreamAnalyzer(source, detectors, observers: [recorder]).RunAsync(cancel);
            }
            var block = withFfmpeg ? await BlockDetectAsync(clip.Path, cancel) : new Dictionary<long, double>();
            runs.Add(new ClipRun(clip, recorder.Frames, collector.Ended, block));
        }
        return runs;
    }

    /// <summary>Vigil and reference scores for both kinds.</summary>
    public static IReadOnlyList<KindScore> Score(IReadOnlyList<ClipRun> runs)
    {
        var scores = new List<KindScore>
        {
            Vigil(runs, CorruptionDetector.KindName, (clip, pts) => clip.IsDamaged(pts)),
            Flags(runs),
            Vigil(runs, BlockinessDetector.KindName, (clip, pts) => clip.IsBlocky(pts)),
        };
        // per codec: the starved clip of each codec plus every clip that is not a blockiness clip
        foreach (var clip in runs.Where(r => r.Clip.Role == ClipRole.Blockiness))
            scores.Add(Vigil(runs.Where(r => r.Clip.Role != ClipRole.Blockiness || r == clip).ToList(), BlockinessDetector.KindName,
                (c, pts) => c.IsBlocky(pts)) with { Tool = $"vigil, {clip.Clip.Name} only" });
        if (runs.Any(r => r.BlockDetect.Count > 0)) scores.Add(BlockDetect(runs));
        return scores;
    }

    public static string Table(IEnumerable<KindScore> scores)
    {
        var lines = new List<string> { "kind              tool                         TP    FP    FN  precision  recall     F1  false events on traps" };
        foreach (var s in scores)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s.Kind,-17} {s.Tool,-26} {s.TruePositives,5} {s.FalsePositives,5} {s.FalseNegatives,5}  {s.Precision,9:0.000} {s.Recall,7:0.000} {s.F1,6:0.000}  {s.FalseEventsOnTraps,5}  {s.Note}"));
        return string.Join(Environment.NewLine, lines);
    }

    private static KindScore Vigil(IReadOnlyList<ClipRun> runs, string kind, Func<CorpusClip, double, bool> truth)
    {
        int tp = 0, fp = 0, fn = 0, trapEvents = 0;
        foreach (var run in runs)
        {
            var intervals = run.Defects.Where(d => d.Kind == kind).ToList();
            if (run.Clip.Role == ClipRole.Trap) trapEvents += intervals.Count;
            foreach (var f in run.Frames)
            {
                var mid = f.Pts + f.Duration / 2;
                var predicted = intervals.Any(d => mid >= d.Start && mid < (d.End ?? double.MaxValue));
                Count(truth(run.Clip, f.Pts), predicted, ref tp, ref fp, ref fn);
            }
        }
        return new KindScore(kind, "vigil", tp, fp, fn, trapEvents);
    }

    private static KindScore Flags(IReadOnlyList<ClipRun> runs)
    {
        int tp = 0, fp = 0, fn = 0, trapEvents = 0;
        foreach (var run in runs)
            foreach (var f in run.Frames)
            {
                Count(run.Clip.IsDamaged(f.Pts), f.Flagged, ref tp, ref fp, ref fn);
                if (run.Clip.Role == ClipRole.Trap && f.Flagged) trapEvents++;
            }
        return new KindScore(CorruptionDetector.KindName, "ffmpeg decoder flags", tp, fp, fn, trapEvents);
    }

    private static KindScore BlockDetect(IReadOnlyList<ClipRun> runs)
    {
        var values = runs.SelectMany(r => r.BlockDetect.Values).Distinct().Order().ToList();
        KindScore? best = null;
        foreach (var threshold in values)
        {
            int tp = 0, fp = 0, fn = 0, trapEvents = 0;
            foreach (var run in runs)
            {
                var above = 0;
                foreach (var f in run.Frames)
                {
                    var predicted = run.BlockDetect.TryGetValue(CorpusClip.Key(f.Pts), out var v) && v >= threshold;
                    Count(run.Clip.IsBlocky(f.Pts), predicted, ref tp, ref fp, ref fn);
                    // an event, as Vigil's: above threshold for at least 1 s (25 frames)
                    above = predicted ? above + 1 : 0;
                    if (run.Clip.Role == ClipRole.Trap && above == 25) trapEvents++;
                }
            }
            var score = new KindScore(BlockinessDetector.KindName, "ffmpeg blockdetect (oracle)", tp, fp, fn, trapEvents,
                string.Create(CultureInfo.InvariantCulture, $"best threshold lavfi.block >= {threshold:0.##}"));
            if (best is null || score.F1 > best.F1) best = score;
        }
        return best!;
    }

    private static void Count(bool truth, bool predicted, ref int tp, ref int fp, ref int fn)
    {
        if (truth && predicted) tp++;
        else if (predicted) fp++;
        else if (truth) fn++;
    }

    /// <summary>FFmpeg 5.1's blockdetect value of every frame, keyed by presentation time (ms from the first frame).</summary>
    private static async Task<Dictionary<long, double>> BlockDetectAsync(string path, CancellationToken cancel)
    {
        var output = Path.Combine(Path.GetTempPath(), $"vigil-blockdetect-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            await FfmpegCli.RunAsync($"-v error -copyts -i \"{path}\" -vf blockdetect,metadata=mode=print:file='{output}' -f null -", cancel);
            var values = new Dictionary<long, double>();
            double? first = null, pts = null;
            foreach (var line in await File.ReadAllLinesAsync(output, cancel))
            {
                var at = line.IndexOf("pts_time:", StringComparison.Ordinal);
                if (at >= 0)
                {
                    pts = double.Parse(line[(at + 9)..].Split(' ')[0], CultureInfo.InvariantCulture);
                    first ??= pts;
                }
                else if (line.StartsWith("lavfi.block=", StringComparison.Ordinal) && pts is { } p)
                {
                    values[CorpusClip.Key(p - first!.Value)] = double.Parse(line["lavfi.block=".Length..], CultureInfo.InvariantCulture);
                }
            }
            return values;
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>Sees each frame after the detectors and keeps what they saw.</summary>
    private sealed class FrameRecorder(CorruptionDetector corruption, BlockinessDetector blockiness) : IAnalysisObserver
    {
        public List<FrameRecord> Frames { get; } = [];

        public void AfterVideo(VideoFrame frame) =>
            Frames.Add(new FrameRecord(frame.Pts, frame.Duration, frame.DecodeErrors != DecodeErrors.None || frame.IsCorrupt,
                frame.PictureType, corruption.LastEvidence, blockiness.LastScore));
    }
}
