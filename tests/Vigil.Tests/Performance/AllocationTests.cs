using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tests.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Performance;

/// <summary>
/// Steady-state analysis must not allocate per frame (STYLE.md: measure it, do not assume it).
/// Counters, not timings: GC.GetAllocatedBytesForCurrentThread around calls made on this thread.
/// One object per frame would be at least 24 bytes a frame; the bounds below allow far less.
/// </summary>
public sealed class AllocationTests(ITestOutputHelper output)
{
    private const int Frames = 500;

    /// <summary>
    /// Bytes allocated by <paramref name="action"/>, the least of three runs: a real per-frame allocation
    /// shows in every run, a one-off (the runtime re-jitting a hot method mid-run) does not.
    /// </summary>
    private static long AllocatedDuring(Action action)
    {
        var least = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    public static TheoryData<string> VideoKinds => new() { BlackDetector.KindName, FreezeDetector.KindName };

    private static IVideoDetector CreateVideo(string kind, IDefectSink sink) => kind == BlackDetector.KindName
        ? new BlackDetector(new BlackOptions(), sink)
        : new FreezeDetector(new FreezeOptions(), sink);

    [Theory]
    [MemberData(nameof(VideoKinds))]
    public void Process_SteadyStateVideo_AllocatesNothingPerFrame(string kind)
    {
        var sink = new RecordingSink();
        var detector = CreateVideo(kind, sink);
        // the analysis size of a 1080p or 720p input
        var moving = Enumerable.Range(0, 8).Select(i => Synthetic.Noise(640, 360, 0, 0.04, seed: i)).ToArray();
        var defect = kind == BlackDetector.KindName
            ? Synthetic.Flat(640, 360, 0, 0.04, 16)
            : Synthetic.Noise(640, 360, 0, 0.04, seed: 99);
        var t = 0.0;
        void Feed(VideoFrame frame, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var f = frame == moving[0] ? moving[i % moving.Length] : frame;
                f.Pts = t;
                detector.Process(f);
                t += 0.04;
            }
        }

        Feed(moving[0], 100); // warm up: buffers sized, code jitted
        var whileMoving = AllocatedDuring(() => Feed(moving[0], Frames));
        Feed(defect, 100);    // the defect starts and is announced (that allocates an event, once)
        Assert.Single(sink.Started);
        var whileDefect = AllocatedDuring(() => Feed(defect, Frames));

        output.WriteLine($"{kind}: {whileMoving} B over {Frames} moving frames, {whileDefect} B over {Frames} defect frames");
        Assert.True(whileMoving < Frames, $"{kind}: {whileMoving} bytes over {Frames} moving frames");
        Assert.True(whileDefect < Frames, $"{kind}: {whileDefect} bytes over {Frames} frames of an ongoing defect");
    }

    [Fact]
    public void Process_SteadyStateAudio_AllocatesNothingPerBlock()
    {
        var sink = new RecordingSink();
        var detector = new SilenceDetector(new SilenceOptions(), sink);
        const int samples = 1024;
        var tone = Synthetic.Sine(2, samples, 48000, 0, 0.1);
        var silence = Synthetic.Sine(2, samples, 48000, 0, 0);
        var t = 0.0;
        void Feed(AudioBlock block, int count)
        {
            for (var i = 0; i < count; i++)
            {
                block.Pts = t;
                detector.Process(block);
                t += samples / 48000.0;
            }
        }

        Feed(tone, 200);
        var whileTone = AllocatedDuring(() => Feed(tone, Frames));
        Feed(silence, 200);
        Assert.Single(sink.Started);
        var whileSilent = AllocatedDuring(() => Feed(silence, Frames));

        output.WriteLine($"audio.silence: {whileTone} B over {Frames} tone blocks, {whileSilent} B over {Frames} silent blocks");
        Assert.True(whileTone < Frames, $"{whileTone} bytes over {Frames} blocks of tone");
        Assert.True(whileSilent < Frames, $"{whileSilent} bytes over {Frames} blocks of ongoing silence");
    }

    [Fact]
    public async Task Read_SteadyStateDecoding_AllocatesAlmostNothingPerItem()
    {
        // the converter side: pooled frames and blocks, recycled by Release
        using var source = MediaSource.Open(await TestClips.Mp4WithAudio(), new MediaOpenOptions { DecodeThreads = 1 });
        var items = 0;
        bool ReadOne()
        {
            var item = source.Read();
            if (item.Kind == MediaItemKind.End) return false;
            item.Video?.Release();
            item.Audio?.Release();
            items++;
            return true;
        }

        for (var i = 0; i < 60 && ReadOne(); i++) { }
        var warm = items;
        var allocated = AllocatedDuring(() => { while (ReadOne()) { } });
        var measured = items - warm;
        output.WriteLine($"MediaSource.Read: {allocated} B over {measured} items");
        Assert.True(measured > 150, $"only {measured} items after warm-up");
        Assert.True(allocated < 16L * measured, $"{allocated} bytes over {measured} items ({allocated / (double)measured:0.0} per item)");
    }
}

/// <summary>Tests that read process-wide counters: run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(Solo), DisableParallelization = true)]
public sealed class Solo;

/// <summary>
/// The whole pipeline (converter thread, channel, detectors) counted process-wide, so it runs alone.
/// Pools fill up to the channel's bound once per run, a cost that does not grow with the input; to
/// keep that fixed cost small beside a per-frame one, the clips are tiny (32x32) and long in frames.
/// </summary>
[Collection(nameof(Solo))]
public sealed class PipelineAllocationTests(ITestOutputHelper output)
{
    private static Task<string> Clip(int seconds) => TestClips.Generate($"tiny-{seconds}s.mp4",
        $"-f lavfi -i testsrc2=size=32x32:rate=100:duration={seconds} -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 100");

    private static async Task<(long Bytes, long Frames)> AnalyseAsync(string clip)
    {
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1 });
        var detectors = DetectorCatalog.Create(DetectorCatalog.All, new DetectorContext(source.Info, new RecordingSink(), DetectorSettings.Empty));
        var analyzer = new StreamAnalyzer(source, detectors);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var summary = await analyzer.RunAsync();
        return (GC.GetTotalAllocatedBytes(precise: true) - before, summary.VideoFrames);
    }

    [Fact]
    public async Task RunAsync_TenTimesLongerInput_AllocatesNothingMorePerFrame()
    {
        var shortClip = await Clip(10);
        var longClip = await Clip(100);
        await AnalyseAsync(shortClip); // warm up
        var (shortBytes, shortFrames) = await AnalyseAsync(shortClip);
        var (longBytes, longFrames) = await AnalyseAsync(longClip);
        Assert.Equal(10 * shortFrames, longFrames);
        // one object per frame would cost at least 24 bytes per extra frame
        var perFrame = (longBytes - shortBytes) / (double)(longFrames - shortFrames);
        output.WriteLine($"pipeline: {shortBytes} B for {shortFrames} frames, {longBytes} B for {longFrames} frames: {perFrame:0.00} B per extra frame");
        Assert.True(perFrame < 12, $"{perFrame:0.0} bytes per extra frame ({shortBytes} B for {shortFrames} frames, {longBytes} B for {longFrames})");
    }
}
