using Vigil.Detectors.Video;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary><c>video.black</c> on clips generated with ffmpeg, each trap checked against blackdetect too.</summary>
public sealed class BlackDetectorClipTests
{
    private const string Black = BlackDetector.KindName;

    [Fact]
    public async Task Analyze_BlackSegment_ReportsBlackWithItsTimes()
    {
        var clip = await TestClips.Black();
        var result = await Analysis.RunAsync(clip);
        var defect = Assert.Single(result.Of(Black));
        ClipAssert.Interval(defect, 2.0, 4.0, ClipAssert.VideoTolerance);
        Assert.True(defect.Confidence > 0.9);
        // announced (defect_start) once it had lasted the minimum duration, before it ended
        var started = Assert.Single(result.Started, d => d.Kind == Black);
        Assert.Equal(defect.Start, started.Start);
        Assert.Null(started.End);
        // ground truth check: the reference agrees on plain black
        var reference = await FfmpegReference.BlackDetectAsync(clip);
        Assert.True(ClipAssert.Overlaps(reference, 2.0, 4.0, 6.0, minimum: 1.9));
    }

    [Fact]
    public async Task Analyze_BlackWithCornerLogoOverTwoPercent_ReportsBlack()
    {
        // 1280x720, black 1.0–3.6 s with a white 288x160 box (5 % of the frame) in the top-right corner
        var clip = await TestClips.BlackWithCornerLogo();
        var result = await Analysis.RunAsync(clip);
        var defect = Assert.Single(result.Of(Black));
        ClipAssert.Interval(defect, 1.0, 3.6, ClipAssert.VideoTolerance);
        // black with a logo is black, and so not also a freeze
        Assert.Empty(result.Of(FreezeDetector.KindName));
        // the trap: blackdetect allows only 2 % non-dark pixels, so it sees no black at all
        var reference = await FfmpegReference.BlackDetectAsync(clip);
        Assert.False(ClipAssert.Overlaps(reference, 1.0, 3.6, 4.0), $"blackdetect found black: {string.Join(", ", reference)}");
    }

    [Fact]
    public async Task Analyze_TitleCardInTheCentre_ReportsNoBlack()
    {
        // the logo allowance is for the edges only: a small card in the middle of black is content
        var result = await Analysis.RunAsync(await TestClips.TitleCardOnBlack(), Black);
        ClipAssert.NoneOf(result, Black, 4.0);
    }

    [Fact]
    public async Task Analyze_DarkDetailedScene_ReportsNoBlack()
    {
        // testsrc2 with every luma value squeezed into 16..36: dark, but edges, text and motion are visible
        var clip = await TestClips.DarkDetailed();
        var result = await Analysis.RunAsync(clip);
        ClipAssert.NoneOf(result, Black, 4.0);
        // the trap: every pixel is at or below blackdetect's Y ≤ 37, so it calls the whole clip black
        var reference = await FfmpegReference.BlackDetectAsync(clip);
        Assert.True(ClipAssert.Overlaps(reference, 0, 4.0, 4.0, minimum: 3.5), $"blackdetect: {string.Join(", ", reference)}");
    }

    [Fact]
    public async Task Analyze_ContentThatIsNotBlack_ReportsNothing()
    {
        var result = await Analysis.RunAsync(await TestClips.Content());
        Assert.Empty(result.Ended);
        Assert.Empty(result.Started);
        Assert.Equal(100, result.Summary.VideoFrames);
    }
}
