using Vigil.Detectors;
using Vigil.Detectors.Sync;
using Vigil.Events;
using Vigil.Media;

namespace Vigil.Tests.Sync;

/// <summary>The A/V sync kernels on tiny synthetic inputs with exact expectations.</summary>
public sealed class AvSyncKernelTests
{
    [Fact]
    public void PowerSpectrum_RandomFrame_MatchesDirectDft()
    {
        const int n = 128;
        var random = new Random(5);
        var frame = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var power = new float[n / 2];

        new RealFft(n).PowerSpectrum(frame, power);

        for (var k = 0; k < n / 2; k++)
        {
            double re = 0, im = 0;
            for (var i = 0; i < n; i++)
            {
                re += frame[i] * Math.Cos(2 * Math.PI * k * i / n);
                im -= frame[i] * Math.Sin(2 * Math.PI * k * i / n);
            }
            var expected = re * re + im * im;
            Assert.InRange(power[k], expected - 1e-3 * (1 + expected), expected + 1e-3 * (1 + expected));
        }
    }

    [Fact]
    public void Add_BetweenCells_SplitsLinearly()
    {
        var grid = new EnvelopeGrid(1);

        grid.Add(0.0125, 1); // 2.5 cells

        Assert.Equal(0.5f, grid[2], 5);
        Assert.Equal(0.5f, grid[3], 5);
        Assert.Equal(0f, grid[1]);
        Assert.Equal(0f, grid[4]);
    }

    [Fact]
    public void Add_PastCapacity_ForgetsOldCells()
    {
        var grid = new EnvelopeGrid(1);
        grid.Add(0.100, 1);

        grid.Add(0.100 + grid.Capacity * EnvelopeGrid.Step, 2);

        Assert.Equal(0f, grid[EnvelopeGrid.CellOf(0.1000001)]);
        var copy = new float[3];
        grid.CopyTo(EnvelopeGrid.CellOf(0.1000001) + grid.Capacity - 1, copy);
        Assert.Equal(2f, copy.Max(), 4);
    }

    [Theory]
    [InlineData(0.0734)]
    [InlineData(-0.2512)]
    [InlineData(0.6)]
    public void Estimate_IrregularEventsAtKnownLag_FindsLagWithinHalfCell(double lag)
    {
        var (video, audio) = Grids(Irregular(20, 0.5), t => t + lag);

        var estimate = new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5);

        Assert.NotNull(estimate);
        Assert.InRange(estimate.Value.Offset, lag - EnvelopeGrid.Step / 2, lag + EnvelopeGrid.Step / 2);
        Assert.True(estimate.Value.PairedEvents >= 8);
        Assert.InRange(estimate.Value.Confidence, 0.5, 1);
    }

    [Fact]
    public void Estimate_PeriodicEvents_AmbiguousSoNull()
    {
        // every 0.4 s: lags 0.1, -0.3, 0.5, -0.7, 0.9 fit equally well
        var times = Enumerable.Range(0, 30).Select(i => 0.5 + 0.4 * i).ToList();
        var (video, audio) = Grids(times, t => t + 0.1);

        Assert.Null(new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5));
    }

    [Theory]
    [InlineData(1.0, 0.2)]
    [InlineData(1.0, -0.12)]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, -0.44)]
    [InlineData(2.0, -0.2)]
    [InlineData(2.0, 0.8)]
    public void Estimate_LineUpPattern_ResolvesToTheSmallestOffset(double period, double lag)
    {
        // a flash and a beep every period up to 14 s: lags lag ± k·period fit equally well
        var times = Enumerable.Range(0, (int)(14 / period)).Select(i => 0.5 + period * i).ToList();
        var (video, audio) = Grids(times, t => t + lag);

        var estimate = new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5);

        Assert.NotNull(estimate);
        Assert.InRange(estimate.Value.Offset, lag - EnvelopeGrid.Step / 2, lag + EnvelopeGrid.Step / 2);
        Assert.True(estimate.Value.PairedEvents >= 4);
    }

    [Fact]
    public void Estimate_LineUpPatternNearHalfItsPeriod_AmbiguousSoNull()
    {
        // 0.48 late or 0.52 early: no way to tell
        var times = Enumerable.Range(0, 14).Select(i => 0.5 + 1.0 * i).ToList();
        var (video, audio) = Grids(times, t => t + 0.48);

        Assert.Null(new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5));
    }

    [Fact]
    public void Estimate_AperiodicEventsWithTwoCandidateOffsets_AmbiguousSoNull()
    {
        // irregular events, each sound heard twice, 0.1 s and 0.95 s after its picture (an echo as loud):
        // two different offsets fit equally and the content does not repeat, so there is no answer
        var times = Irregular(20, 0.5);
        var (video, audio) = Grids(times, t => t + 0.1);
        var (_, echo) = Grids(times, t => t + 0.95);
        for (var c = EnvelopeGrid.CellOf(0); c < echo.End; c++)
            if (echo[c] > 0) audio.Add(c * EnvelopeGrid.Step + 1e-9, echo[c]);

        Assert.Null(new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5));
    }

    [Fact]
    public void Estimate_TwoEvents_NotEnoughEvidence()
    {
        var (video, audio) = Grids([2.0, 5.3], t => t + 0.2);

        Assert.Null(new OffsetEstimator(10, 1).Estimate(video, audio, EnvelopeGrid.CellOf(11), 3, 1.5));
    }

    [Fact]
    public void Estimate_UnrelatedEvents_Null()
    {
        var video = Irregular(8, 0.5);
        var audio = Irregular(8, 0.9, seed: 99);
        var (videoGrid, _) = Grids(video, t => t);
        var (_, audioGrid) = Grids(audio, t => t);

        Assert.Null(new OffsetEstimator(10, 1).Estimate(videoGrid, audioGrid, EnvelopeGrid.CellOf(11), 3, 1.5));
    }

    [Fact]
    public void Process_BeepAfterSilence_OnsetWithin5ms()
    {
        const int rate = 48_000;
        const double onset = 1.2345;
        var grid = new EnvelopeGrid(10);
        var envelope = new AudioOnsetEnvelope(grid);

        Feed(envelope, rate, 2, 2.0, t => t >= onset ? 0.5 * Math.Sin(2 * Math.PI * 1000 * t) : 0);

        var peak = Enumerable.Range(0, (int)grid.End).MaxBy(c => grid[c]);
        Assert.InRange(peak * EnvelopeGrid.Step, onset - 0.005, onset + 0.005);
        Assert.True(grid[peak] > OffsetEstimator.AudioEventMin);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Process_SteadyToneOrSilence_NoOnsetsAfterTheStart(bool tone)
    {
        var grid = new EnvelopeGrid(10);
        var envelope = new AudioOnsetEnvelope(grid);

        Feed(envelope, 44_100, 1, 3.0, t => tone ? 0.3 * Math.Sin(2 * Math.PI * 440 * t) : 0);

        var after = grid.End > 20 ? Enumerable.Range(20, (int)grid.End - 20).Max(i => grid[i]) : 0; // from 0.1 s
        Assert.True(after < 1, $"largest onset after the start {after}");
        Assert.Equal(3.0, envelope.Reached, 3);
    }

    [Fact]
    public void Process_OneFrameFlash_ScoresTheFlashNotItsEnd()
    {
        var grid = new EnvelopeGrid(10);
        var envelope = new VideoChangeEnvelope(grid);

        for (var n = 0; n < 25; n++)
        {
            var frame = VideoFrame.Create(64, 48, n * 0.04);
            frame.Duration = 0.04;
            frame.Luma.Fill(n == 10 ? (byte)235 : (byte)16);
            envelope.Process(frame);
        }

        Assert.True(grid[EnvelopeGrid.CellOf(0.4 + 1e-9)] > 200);
        Assert.True(grid[EnvelopeGrid.CellOf(0.44 + 1e-9)] < 1); // the picture returning is not news
        Assert.Equal(1, Enumerable.Range(0, (int)grid.End).Count(c => grid[c] > OffsetEstimator.VideoEventMin));
    }

    [Fact]
    public void Audio_TimestampsDriftFromTheSampleClock_SkewIsTheDrift()
    {
        // 60 s of 25 fps video and AAC-sized audio blocks whose timestamps run 0.2 % fast: 120 ms by the end
        var skew = new TimestampSkew();
        FeedBoth(skew, 60, audioPts: (i, t) => t * 1.002);

        Assert.Equal(0.12, skew.Skew, 3);
        Assert.InRange(skew.ContinuousSeconds, 59.9, 60.1);
        Assert.Equal(0, skew.Stretch);
    }

    [Fact]
    public void Audio_TimestampJump_EndsTheStretchNoSkew()
    {
        // lost audio or a shifted track: the timestamps cannot tell, so a jump is never a skew
        var skew = new TimestampSkew();
        FeedBoth(skew, 20, audioPts: (i, t) => t >= 10 ? t + 0.3 : t);

        Assert.Equal(0, skew.Skew, 6);
        Assert.Equal(1, skew.Stretch);
        Assert.InRange(skew.ContinuousSeconds, 9.6, 9.8); // from the jump (10.3 s in the audio's timestamps) to 20 s
    }

    [Fact]
    public void Video_DroppedFramesOrPartFrameShift_EndTheStretchNoSkew()
    {
        var skew = new TimestampSkew();
        FeedBoth(skew, 30, videoPts: t => t >= 10 && t < 20 ? t + 0.08 : t >= 20 ? t + 0.3 : t);

        Assert.Equal(0, skew.Skew, 6);
        Assert.Equal(2, skew.Stretch);
    }

    [Fact]
    public void MatroskaMillisecondRounding_30fpsAndOpus_NoSkewNoBreak()
    {
        // frames alternate 33/34 ms, 20 ms Opus packets wobble ±0.5 ms around the sample clock
        var skew = new TimestampSkew();
        double v = 0, a = 0;
        for (var n = 0; v < 60; n++)
        {
            v = Math.Round(n / 30.0, 3);
            skew.Video(v, 0.033);
            for (; a < v + 0.1; a += 0.02) skew.Audio(Math.Round(a - 0.0065, 3), 960, 48_000);
        }

        Assert.InRange(skew.Skew, -0.001, 0.001);
        Assert.Equal(0, skew.Stretch);
        Assert.InRange(skew.ContinuousSeconds, 59, 61);
    }

    [Fact]
    public void OpusPreSkip_ShortFirstBlock_NoSkew()
    {
        // the first decoded block lost its 312 pre-skip samples but kept its timestamp
        var skew = new TimestampSkew();
        skew.Video(0, 0.04);
        skew.Audio(-0.0065, 960 - 312, 48_000);
        for (var i = 1; i < 500; i++)
        {
            if (i % 2 == 0) skew.Video(i * 0.02, 0.04);
            skew.Audio(-0.0065 + i * 0.02, 960, 48_000);
        }

        Assert.InRange(skew.Skew, -0.001, 0.001);
        Assert.InRange(skew.ContinuousSeconds, 9.5, 10.1);
    }

    [Fact]
    public void Break_CorruptPacket_StartsAFreshStretch()
    {
        var skew = new TimestampSkew();
        FeedBoth(skew, 30, audioPts: (i, t) => t * 1.002);
        skew.Break(30);

        Assert.Equal(0, skew.Skew, 6);
        Assert.Equal(1, skew.Stretch);
        Assert.Equal(0, skew.ContinuousSeconds, 3);
    }

    /// <summary>25 fps frames and 1024-sample 48 kHz blocks for <paramref name="seconds"/>, interleaved, timestamps mapped.</summary>
    private static void FeedBoth(TimestampSkew skew, double seconds, Func<int, double, double>? audioPts = null, Func<double, double>? videoPts = null)
    {
        const double block = 1024 / 48_000.0;
        var b = 0;
        for (var n = 0; n * 0.04 < seconds; n++)
        {
            var t = n * 0.04;
            skew.Video(videoPts?.Invoke(t) ?? t, 0.04);
            for (; b * block < t + 0.04 && b * block < seconds; b++) skew.Audio(audioPts?.Invoke(b, b * block) ?? b * block, 1024, 48_000);
        }
    }

    [Fact]
    public void Measure_LateBeyondToleranceFor5s_OneDefectWithOffset()
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        for (var t = 10; t <= 20; t++) intervals.Measure(0.200, 0.8, t - 9, t - 1, 8);
        intervals.Close(21);

        var defect = Assert.Single(sink.Ended);
        Assert.Equal(1, defect.Start);
        Assert.Equal(21, defect.End);
        Assert.Equal(200, defect.Details!["offset_ms"]);
        Assert.Equal(0.8, defect.Confidence, 6);
    }

    [Theory]
    [InlineData(0.120, 0)]  // late, within 125 ms
    [InlineData(-0.040, 0)] // early, within 45 ms
    [InlineData(-0.050, 1)] // early by more than 45 ms
    [InlineData(0.130, 1)]
    public void Measure_Tolerance_DefectOnlyOutside(double offset, int defects)
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        for (var t = 10; t <= 20; t++) intervals.Measure(offset, 0.8, t - 9, t - 1, 8);
        intervals.Close(21);

        Assert.Equal(defects, sink.Count);
    }

    [Fact]
    public void Measure_ShorterThanMinDuration_NoDefect()
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        intervals.Measure(0.300, 0.8, 10, 12, 4);
        intervals.Measure(0.300, 0.8, 10, 13, 4);
        intervals.NoEvidence(40);

        Assert.Equal(0, sink.Count);
    }

    [Fact]
    public void Measure_OneOutlierWindow_DoesNotSplitTheInterval()
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        for (var t = 10; t <= 20; t++) intervals.Measure(t == 15 ? 0.5 : 0.2, 0.8, t - 9, t - 1, 8);
        intervals.Close(21);

        var defect = Assert.Single(sink.Ended);
        Assert.Equal(200, defect.Details!["offset_ms"]);
    }

    [Fact]
    public void Measure_OffsetChangesAndIsConfirmed_EndsOneDefectStartsAnother()
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        for (var t = 10; t <= 20; t++) intervals.Measure(0.2, 0.8, t - 9, t - 1, 8);  // evidence up to 19
        for (var t = 21; t <= 31; t++) intervals.Measure(-0.1, 0.8, 21, t, 8);      // from 21
        intervals.Close(32);

        Assert.Equal(2, sink.Count);
        Assert.Equal(200, sink.Ended[0].Details!["offset_ms"]);
        Assert.Equal(20, sink.Ended[0].End);
        Assert.Equal(-100, sink.Ended[1].Details!["offset_ms"]);
        Assert.Equal(20, sink.Ended[1].Start);
    }

    [Fact]
    public void NoEvidence_LongerThanMaxGap_EndsAtLastEvidence()
    {
        var sink = new DefectCollector();
        var intervals = new OffsetIntervals(new AvSyncOptions(), sink);

        for (var t = 10; t <= 20; t++) intervals.Measure(0.2, 0.8, t - 9, t - 1, 8);
        for (var t = 21; t <= 40; t++) intervals.NoEvidence(t);

        var defect = Assert.Single(sink.Ended);
        Assert.Equal(19, defect.End);
    }

    [Fact]
    public void Catalog_AvSync_NeedsBothTracksAndBindsOptions()
    {
        var descriptor = Assert.Single(DetectorCatalog.Select("av"));
        Assert.Equal(AvSyncDetector.KindName, descriptor.Kind);
        Assert.True(descriptor.NeedsVideo && descriptor.NeedsAudio);

        var video = new VideoInfo(0, "h264", 320, 240, 320, 240, 25);
        var audio = new AudioInfo(1, "aac", 48000, 2);
        var settings = DetectorSettings.Parse(["av.sync.late_tolerance_ms=200"]);
        var sink = new DefectCollector();
        Assert.Empty(DetectorCatalog.Create([descriptor], new DetectorContext(new MediaInfo("mp4", 10, video, null), sink, settings)));
        var detector = Assert.Single(DetectorCatalog.Create([descriptor], new DetectorContext(new MediaInfo("mp4", 10, video, audio), sink, settings)));
        Assert.IsType<AvSyncDetector>(detector);
        Assert.Equal(200, settings.Bind<AvSyncOptions>(AvSyncDetector.KindName).LateToleranceMs);
        Assert.Throws<ArgumentException>(() => DetectorCatalog.Validate(DetectorSettings.Parse(["av.sync.window=1"])));
    }

    /// <summary>Irregular event times: gaps of 0.35–0.85 s from a seeded generator.</summary>
    private static List<double> Irregular(int count, double start, int seed = 7)
    {
        var random = new Random(seed);
        var times = new List<double>();
        var t = start;
        for (var i = 0; i < count; i++)
        {
            times.Add(t);
            t += 0.35 + 0.5 * random.NextDouble();
        }
        return times;
    }

    /// <summary>A video grid with an impulse per event, and an audio grid with a 3-cell onset shape at <paramref name="toAudio"/>(t).</summary>
    private static (EnvelopeGrid Video, EnvelopeGrid Audio) Grids(IEnumerable<double> times, Func<double, double> toAudio)
    {
        var video = new EnvelopeGrid(30);
        var audio = new EnvelopeGrid(30);
        foreach (var t in times)
        {
            video.Add(t, 100);
            var a = toAudio(t);
            audio.Add(a - EnvelopeGrid.Step, 40);
            audio.Add(a, 150);
            audio.Add(a + EnvelopeGrid.Step, 60);
        }
        // both grids reach the same front
        video.Add(13, 0);
        audio.Add(13, 0);
        return (video, audio);
    }

    private static void Feed(AudioOnsetEnvelope envelope, int rate, int channels, double seconds, Func<double, double> signal)
    {
        const int blockLength = 1024;
        var total = (int)(seconds * rate);
        for (var start = 0; start < total; start += blockLength)
        {
            var count = Math.Min(blockLength, total - start);
            var block = AudioBlock.Create(channels, count, rate, start / (double)rate);
            for (var c = 0; c < channels; c++)
            {
                var samples = block.Channel(c);
                for (var i = 0; i < count; i++) samples[i] = (float)signal((start + i) / (double)rate);
            }
            envelope.Process(block);
        }
    }
}
