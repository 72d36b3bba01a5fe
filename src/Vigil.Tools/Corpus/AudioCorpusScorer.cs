using System.Globalization;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tools.Corpus;

/// <summary>What one audio clip produced: Vigil's defects, the media time analysed, and whether repeated runs gave the same defect lines.</summary>
public sealed record AudioClipRun(AudioCorpusClip Clip, double Duration, IReadOnlyList<Defect> Defects, int Runs, bool Identical)
{
    /// <summary>A defect as one line (kind, times, details): what must be identical run after run.</summary>
    public static string Line(Defect d) => string.Create(CultureInfo.InvariantCulture,
        $"{d.Kind} {d.Start:R}-{d.End:R} {d.Confidence:R} {string.Join(" ", (d.Details ?? new Dictionary<string, double>()).OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value:R}"))}");
}

/// <summary>
/// Runs the audio corpus through Vigil's audio detectors (<c>audio.clipping</c>, <c>audio.silence</c>) and scores
/// them in time: the clip is cut into 10 ms steps, each predicted defective when its middle lies inside a reported
/// interval of the kind (a per-channel truth needs the defect on that channel), and counted against the truth.
/// Every clip is analysed several times and its defect lines compared.
/// </summary>
public static class AudioCorpusScorer
{
    /// <summary>The time step of the scores, in seconds.</summary>
    public const double Step = 0.01;

    /// <summary>The kinds scored.</summary>
    public static readonly string[] Kinds = [AudioCorpusGenerator.Clipping, AudioCorpusGenerator.Silence];

    public static async Task<IReadOnlyList<AudioClipRun>> RunAsync(IEnumerable<AudioCorpusClip> clips, DetectorSettings? settings = null,
        int repeats = 5, CancellationToken cancel = default)
    {
        var runs = new List<AudioClipRun>();
        foreach (var clip in clips)
        {
            IReadOnlyList<Defect>? first = null;
            var duration = 0.0;
            var identical = true;
            for (var i = 0; i < Math.Max(1, repeats); i++)
            {
                var collector = new DefectCollector();
                using var source = MediaSource.Open(clip.Path, new MediaOpenOptions { Video = false, DecodeThreads = 1 });
                var detectors = DetectorCatalog.Create(DetectorCatalog.Select(string.Join(",", Kinds)),
                    new DetectorContext(source.Info, collector, settings ?? DetectorSettings.Empty));
                var summary = await new StreamAnalyzer(source, detectors).RunAsync(cancel);
                if (first is null)
                {
                    first = collector.Ended;
                    duration = summary.Duration;
                }
                else
                {
                    identical &= first.Select(AudioClipRun.Line).SequenceEqual(collector.Ended.Select(AudioClipRun.Line));
                }
            }
            runs.Add(new AudioClipRun(clip, duration, first!, Math.Max(1, repeats), identical));
        }
        return runs;
    }

    /// <summary>Time-level scores per kind (counts are 10 ms steps); false events: defects of the kind on trap clips.</summary>
    public static IReadOnlyList<KindScore> Score(IReadOnlyList<AudioClipRun> runs) => Kinds.Select(kind => Score(runs, kind)).ToList();

    private static KindScore Score(IReadOnlyList<AudioClipRun> runs, string kind)
    {
        int tp = 0, fp = 0, fn = 0, trapEvents = 0;
        foreach (var run in runs)
        {
            var clip = run.Clip;
            var defects = run.Defects.Where(d => d.Kind == kind).ToList();
            if (clip.Kind is null) trapEvents += defects.Count;
            var steps = (int)Math.Floor(run.Duration / Step);
            for (var i = 0; i < steps; i++)
            {
                var t = (i + 0.5) * Step;
                var truth = clip.Holds(kind, t);
                var predicted = defects.Any(d => t >= d.Start && t < (d.End ?? double.MaxValue) && (!truth || clip.Channel is null || d.Channel == clip.Channel));
                if (truth && predicted) tp++;
                else if (predicted) fp++;
                else if (truth) fn++;
            }
        }
        var repeated = runs.Count(r => r.Identical);
        return new KindScore(kind, "vigil", tp, fp, fn, trapEvents,
            $"identical defect lines over {runs.FirstOrDefault()?.Runs ?? 0} runs: {repeated}/{runs.Count} clips");
    }
}
