using Vigil.Detectors.Sync;
using Vigil.Detectors.Video;
using Vigil.Tools.Corpus;

namespace Vigil.Tests;

/// <summary>
/// The labelled corpus (generated once per run with the ffmpeg CLI) through Vigil: the floors the scorer
/// measures. Frame-level F1 per kind; trap clips must raise no event at all.
/// </summary>
public class VideoCorpusTests : IClassFixture<VideoCorpusTests.Corpus>
{
    public sealed class Corpus : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), $"vigil-corpus-test-{Guid.NewGuid():N}");

        public Corpus()
        {
            var clips = new CorpusGenerator(_directory).GenerateAsync().GetAwaiter().GetResult();
            // decode threads as analyze uses them (one per core), every clip five times
            Runs = CorpusScorer.RunAsync(clips, withFfmpeg: false, runs: 5).GetAwaiter().GetResult();
            Scores = CorpusScorer.Score(Runs);
        }

        public IReadOnlyList<ClipRun> Runs { get; }
        public IReadOnlyList<KindScore> Scores { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }

    private readonly Corpus _corpus;

    public VideoCorpusTests(Corpus corpus) => _corpus = corpus;

    private KindScore Score(string kind, string tool) => _corpus.Scores.Single(s => s.Kind == kind && s.Tool == tool);

    [Fact]
    public void Corruption_DamagedTransportStreams_F1AtLeast095()
    {
        var score = Score(CorruptionDetector.KindName, "vigil");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public void EveryClip_FiveRunsAtDefaultThreads_IdenticalDefectLines()
    {
        Assert.All(_corpus.Runs, r => Assert.True(r.Answers == 1, $"{r.Clip.Name}: {r.Answers} different answers over {r.Runs} runs"));
        Assert.All(_corpus.Runs, r => Assert.Equal(5, r.Runs));
    }

    [Fact]
    public void AvSync_LineUpSignals_F1AtLeast095WithinTheirOffset()
    {
        var score = Score(AvSyncDetector.KindName, "vigil");

        Assert.True(_corpus.Runs.Count(r => r.Clip.Role == ClipRole.Sync) >= 8);
        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public void AvSync_TrapClips_NoEvents()
    {
        // line-ups within tolerance, Matroska rounding, Opus pre-skip, a freeze, a one-track jump, garbage bursts
        Assert.True(_corpus.Runs.Count(r => r.Clip.Role == ClipRole.Trap && r.Clip.Scores(AvSyncDetector.KindName) && r.Clip.Name.Contains("sync") || r.Clip.Name.StartsWith("trap-ts-", StringComparison.Ordinal)) >= 6);
        Assert.Equal(0, Score(AvSyncDetector.KindName, "vigil").FalseEventsOnTraps);
    }

    [Fact]
    public void Corruption_TrapClips_NoEvents()
    {
        Assert.Equal(0, Score(CorruptionDetector.KindName, "vigil").FalseEventsOnTraps);
    }

    [Fact]
    public void Corruption_FollowsDamage_RecallFarAboveDecoderFlagsAlone()
    {
        var vigil = Score(CorruptionDetector.KindName, "vigil");
        var flags = Score(CorruptionDetector.KindName, "ffmpeg decoder flags");

        Assert.True(flags.Recall < 0.2, CorpusScorer.Table([flags]));
        Assert.True(vigil.Recall >= 0.9, CorpusScorer.Table([vigil]));
    }

    [Fact]
    public void Corruption_FrameDroppedWhole_FoundFromTheTimestampGap()
    {
        var run = _corpus.Runs.Single(r => r.Clip.Name == "corrupt-framedrop");

        Assert.DoesNotContain(run.Frames, f => f.Flagged); // no decoder flag to go by
        Assert.Equal(2, run.Defects.Count(d => d.Kind == CorruptionDetector.KindName));
    }

    [Fact]
    public void Corruption_IntraRefreshStream_EachDamageHealsWithItsRefreshWave()
    {
        // no key frames to end the damage: it must end when a refresh wave has renewed the picture, not
        // run on to the propagation limit (10 s) and merge both damages into one defect
        var run = _corpus.Runs.Single(r => r.Clip.Name == "corrupt-intra-refresh");
        var defects = run.Defects.Where(d => d.Kind == CorruptionDetector.KindName).ToList();
        Assert.Equal(2, defects.Count);

        var frames = run.Frames.Select(f => f.Pts).Order().ToList();
        var firstDamaged = frames.First(run.Clip.IsDamaged);
        var healed = frames.First(p => p > firstDamaged && !run.Clip.IsDamaged(p));
        Assert.Equal(healed, defects[0].End!.Value, 3);
    }

    [Fact]
    public void Corruption_Defects_ReportDamagedArea()
    {
        var defects = _corpus.Runs.Where(r => r.Clip.Role == ClipRole.Corruption)
            .SelectMany(r => r.Defects).Where(d => d.Kind == CorruptionDetector.KindName).ToList();

        Assert.NotEmpty(defects);
        Assert.All(defects, d => Assert.InRange(d.Details!["area"], 0, 1));
        Assert.Contains(defects, d => d.Details!["area"] > 0.01);
    }

    [Fact]
    public void Blockiness_StarvedMpeg2_F1AtLeast095()
    {
        var score = Score(BlockinessDetector.KindName, "vigil, block-mpeg2 only");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public void Blockiness_StarvedH264Deblocked_F1AtLeast095()
    {
        // measured 1.000: the flat patches deblocking leaves are what gives starved H.264 away
        var score = Score(BlockinessDetector.KindName, "vigil, block-h264 only");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public async Task Blockiness_StarvedHevc_F1AtLeast095()
    {
        if (!await CorpusGenerator.HasLibx265Async()) return; // no HEVC clip without libx265
        var score = Score(BlockinessDetector.KindName, "vigil, block-hevc only");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public async Task Blockiness_StarvedHevcMain10_F1AtLeast095()
    {
        if (!await CorpusGenerator.HasLibx265Async()) return;
        var score = Score(BlockinessDetector.KindName, "vigil, block-hevc10 only");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public void Blockiness_AllCodecs_F1AtLeast095()
    {
        var score = Score(BlockinessDetector.KindName, "vigil");

        Assert.True(score.F1 >= 0.95, CorpusScorer.Table([score]));
    }

    [Fact]
    public void Blockiness_TrapClips_NoEvents()
    {
        Assert.Equal(0, Score(BlockinessDetector.KindName, "vigil").FalseEventsOnTraps);
    }

    [Fact]
    public void Blockiness_StarvedStretch_ReportedWithinAFrameOfItsBounds()
    {
        foreach (var run in _corpus.Runs.Where(r => r.Clip.Role == ClipRole.Blockiness))
        {
            var defect = Assert.Single(run.Defects, d => d.Kind == BlockinessDetector.KindName);
            Assert.Equal(CorpusGenerator.StarvedStart, defect.Start, 0.1);
            Assert.Equal(CorpusGenerator.StarvedEnd, defect.End!.Value, 0.1);
        }
    }
}
