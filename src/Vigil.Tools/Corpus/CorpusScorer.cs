using System.Globalization;
using Vigil.Detectors;
using Vigil.Detectors.Sync;
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

/// <summary>
/// What one clip produced: every frame with its flags, Vigil's defects, FFmpeg's blockdetect values, and how many
/// different sets of defect lines the repeated runs of it gave (1: the same answer every time).
/// </summary>
public sealed record ClipRun(CorpusClip Clip, IReadOnlyList<FrameRecord> Frames, IReadOnlyList<Defect> Defects, IReadOnlyDictionary<long, double> BlockDetect)
{
    /// <summary>Distinct answers (sets of defect lines) over the runs of this clip.</summary>
    public int Answers { get; init; } = 1;

    /// <summary>Times the clip was analysed.</summary>
    public int Runs { get; init; } = 1;
}

/// <summary>A decoded frame as the scorer saw it.</summary>
public readonly record struct FrameRecord(double Pts, double Duration, bool Flagged, PictureType Type, CorruptionEvidence Corruption, double BlockScore);

/// <summary>
/// Runs the corpus through Vigil (video.corruption, video.blockiness and, where there is audio, av.sync;
/// decode threads as analyze uses them unless told, every clip <c>runs</c> times to check that the answer
/// never depends on thread timing) and through the references, and scores frame by frame: a frame is
/// predicted defective when it lies inside a reported interval (for av.sync, one whose offset is within
/// <see cref="SyncErrorMs"/> of the truth; another offset is a false alarm). References: for corruption FFmpeg has no filter, so the decoder's own flags
/// (decode_error_flags, AV_FRAME_FLAG_CORRUPT) are scored as the prediction; for blockiness FFmpeg's
/// blockdetect, thresholded at the value that maximises its F1 on this corpus (an oracle in its favour).
/// </summary>
public static class CorpusScorer
{
    /// <summary>An av.sync defect counts when its offset is within this of the clip's (ms).</summary>
    public const double SyncErrorMs = 20;

    private static readonly string Kinds = $"{CorruptionDetector.KindName},{BlockinessDetector.KindName},{AvSyncDetector.KindName}";

    public static async Task<IReadOnlyList<ClipRun>> RunAsync(IEnumerable<CorpusClip> clips, DetectorSettings? settings = null,
        bool withFfmpeg = true, int decodeThreads = 0, int runs = 1, CancellationToken cancel = default)
    {
        var results = new List<ClipRun>();
        foreach (var clip in clips)
        {
            ClipRun? first = null;
            var answers = new HashSet<string>();
            for (var r = 0; r < Math.Max(1, runs); r++)
            {
                var (frames, defects) = await AnalyseAsync(clip, settings, decodeThreads, cancel);
                answers.Add(string.Join("\n", defects.Select(ContractJson.Defect)));
                first ??= new ClipRun(clip, frames, defects, new Dictionary<long, double>());
            }
            var block = withFfmpeg ? await BlockDetectAsync(clip.Path, cancel) : new Dictionary<long, double>();
            results.Add(first! with { BlockDetect = block, Answers = answers.Count, Runs = Math.Max(1, runs) });
        }
        return results;
    }

    private static async Task<(IReadOnlyList<FrameRecord>, IReadOnlyList<Defect>)> AnalyseAsync(CorpusClip clip, DetectorSettings? settings,
        int decodeThreads, CancellationToken cancel)
    {
        var collector = new DefectCollector();
        using var source = MediaSource.Open(clip.Path, new MediaOpenOptions { DecodeThreads = decodeThreads });
        var detectors = DetectorCatalog.Create(DetectorCatalog.Select(Kinds), new DetectorContext(source.Info, collector, settings ?? DetectorSettings.Empty));
        var recorder = new FrameRecorder(detectors.OfType<CorruptionDetector>().Single(), detectors.OfType<BlockinessDetector>().Single());
        await new StreamAnalyzer(source, detectors, observers: [recorder]).RunAsync(cancel);
        return (recorder.Frames, collector.Ended);
    }

    /// <summary>Vigil and reference scores for both kinds.</summary>
    public static IReadOnlyList<KindScore> Score(IReadOnlyList<ClipRun> runs)
    {
        var scores = new List<KindScore>
        {
            Vigil(runs, CorruptionDetector.KindName),
            Flags(runs),
            Vigil(runs, BlockinessDetector.KindName),
            Vigil(runs, AvSyncDetector.KindName),
        };
        // per codec: the starved clip of each codec plus every clip that is not a blockiness clip
        foreach (var clip in runs.Where(r => r.Clip.Role == ClipRole.Blockiness))
            scores.Add(Vigil(runs.Where(r => r.Clip.Role != ClipRole.Blockiness || r == clip).ToList(), BlockinessDetector.KindName)
                with { Tool = $"vigil, {clip.Clip.Name} only" });
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

    /// <summary>Vigil's frame-level counts on one clip for the kind it carries (null for a trap or an unscored kind).</summary>
    public static KindScore? ScoreClip(ClipRun run, string kind) =>
        run.Clip.Scores(kind) ? Vigil([run], kind) : null;

    /// <summary>
    /// Frame-level counts of Vigil's <paramref name="kind"/> against the clips' truth; a frame inside a defect
    /// that is not right (an av.sync offset off by more than <see cref="SyncErrorMs"/>) is a false alarm.
    /// </summary>
    private static KindScore Vigil(IReadOnlyList<ClipRun> runs, string kind)
    {
        Func<CorpusClip, double, bool> truth = kind switch
        {
            CorruptionDetector.KindName => (clip, pts) => clip.IsDamaged(pts),
            BlockinessDetector.KindName => (clip, pts) => clip.IsBlocky(pts),
            AvSyncDetector.KindName => (clip, pts) => clip.IsOutOfSync(pts),
            _ => throw new ArgumentException($"no truth for {kind}"),
        };
        Func<CorpusClip, Defect, bool>? right = kind == AvSyncDetector.KindName ? SyncRight : null;
        int tp = 0, fp = 0, fn = 0, trapEvents = 0;
        foreach (var run in runs.Where(r => r.Clip.Scores(kind)))
        {
            var intervals = run.Defects.Where(d => d.Kind == kind).ToList();
            if (run.Clip.Role == ClipRole.Trap) trapEvents += intervals.Count;
            foreach (var f in run.Frames)
            {
                var mid = f.Pts + f.Duration / 2;
                var inside = intervals.Where(d => mid >= d.Start && mid < (d.End ?? double.MaxValue)).ToList();
                var predicted = inside.Count > 0 && (right is null || inside.All(d => right(run.Clip, d)));
                var isTrue = truth(run.Clip, f.Pts);
                if (inside.Count > 0 && !predicted) { fp++; if (isTrue) fn++; }
                else Count(isTrue, predicted, ref tp, ref fp, ref fn);
            }
        }
        return new KindScore(kind, "vigil", tp, fp, fn, trapEvents);
    }

    private static bool SyncRight(CorpusClip clip, Defect defect) =>
        clip.SyncOffsetMs is { } truth && defect.Details is { } details && details.TryGetValue("offset_ms", out var offset)
        && Math.Abs(offset - truth) <= SyncErrorMs;

    private static KindScore Flags(IReadOnlyList<ClipRun> runs)
    {
        int tp = 0, fp = 0, fn = 0, trapEvents = 0;
        foreach (var run in runs.Where(r => r.Clip.Scores(CorruptionDetector.KindName)))
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
            foreach (var run in runs.Where(r => r.Clip.Scores(BlockinessDetector.KindName)))
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
