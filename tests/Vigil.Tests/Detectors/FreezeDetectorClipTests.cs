using Vigil.Detectors.Video;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary><c>video.freeze</c> on clips generated with ffmpeg, each trap checked against freezedetect too.</summary>
public sealed class FreezeDetectorClipTests
{
    private const string Freeze = FreezeDetector.KindName;

    [Fact]
    public async Task Analyze_FrozenPicture_ReportsFreezeWithItsTimes()
    {
        // frames 50..124 all show frame 50: frozen from 2.0 s to 5.0 s
        var result = await Analysis.RunAsync(await TestClips.Freeze());
        var defect = Assert.Single(result.Of(Freeze));
        ClipAssert.Interval(defect, 2.0, 5.0, ClipAssert.VideoTolerance);
        Assert.Empty(result.Of(BlackDetector.KindName));
    }

    [Fact]
    public async Task Analyze_FreezeWithGrain_ReportsFreeze()
    {
        // the same freeze with fresh grain (noise=alls=20:allf=t) on every frame
        var clip = await TestClips.FreezeWithGrain();
        var result = await Analysis.RunAsync(clip, Freeze);
        var defect = Assert.Single(result.Of(Freeze));
        ClipAssert.Interval(defect, 2.0, 5.0, ClipAssert.VideoTolerance);
        // the trap: grain keeps freezedetect's whole-frame difference above its threshold, so it misses the freeze
        var reference = await FfmpegReference.FreezeDetectAsync(clip);
        Assert.False(ClipAssert.Overlaps(reference, 2.0, 5.0, 6.0), $"freezedetect found: {string.Join(", ", reference)}");
    }

    [Fact]
    public async Task Analyze_StaticSlateWithSmallMovingClock_ReportsNoFreeze()
    {
        // 1280x720 bars with a 16x16 box moving 4 px per frame in a corner
        var clip = await TestClips.SlateWithMovingClock();
        var result = await Analysis.RunAsync(clip, Freeze);
        ClipAssert.NoneOf(result, Freeze, 5.0);
        // the trap: the moving box is too small a share of the frame for freezedetect, which calls the slate frozen
        var reference = await FfmpegReference.FreezeDetectAsync(clip);
        Assert.True(ClipAssert.Overlaps(reference, 0, 5.0, 5.0, minimum: 2.0), $"freezedetect: {string.Join(", ", reference)}");
    }

    [Fact]
    public async Task Analyze_BlackSegment_ReportsBlackNotFreeze()
    {
        var clip = await TestClips.Black();
        var result = await Analysis.RunAsync(clip);
        Assert.Empty(result.Of(Freeze));
        Assert.Single(result.Of(BlackDetector.KindName));
        // the trap: a black picture does not change, so freezedetect also reports it as a freeze
        var reference = await FfmpegReference.FreezeDetectAsync(clip);
        Assert.True(ClipAssert.Overlaps(reference, 2.0, 4.0, 6.0, minimum: 1.5), $"freezedetect: {string.Join(", ", reference)}");
    }

    [Fact]
    public async Task Analyze_ScrollingFineTexture_ReportsNoFreeze()
    {
        var clip = await TestClips.ScrollingTexture();
        var result = await Analysis.RunAsync(clip, Freeze);
        ClipAssert.NoneOf(result, Freeze, 4.0);
    }

    [Fact]
    public async Task Analyze_SlowPanOverTexture_ReportsNoFreeze()
    {
        var result = await Analysis.RunAsync(await TestClips.PanningTexture(), Freeze);
        ClipAssert.NoneOf(result, Freeze, 4.0);
    }

    [Fact]
    public async Task Analyze_ContentThatMoves_ReportsNoFreeze()
    {
        var result = await Analysis.RunAsync(await TestClips.Content(), Freeze);
        ClipAssert.NoneOf(result, Freeze, 4.0);
    }
}
