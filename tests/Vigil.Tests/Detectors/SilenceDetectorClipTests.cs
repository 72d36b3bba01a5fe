using Vigil.Detectors.Audio;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary><c>audio.silence</c> on clips generated with ffmpeg, each trap checked against silencedetect too.</summary>
public sealed class SilenceDetectorClipTests
{
    private const string Silence = SilenceDetector.KindName;

    [Fact]
    public async Task Analyze_SilenceOnAllChannels_ReportsSilenceWithItsTimes()
    {
        var clip = await TestClips.Silence();
        var result = await Analysis.RunAsync(clip);
        var defect = Assert.Single(result.Of(Silence));
        ClipAssert.Interval(defect, 2.0, 4.5, ClipAssert.AudioTolerance);
        Assert.True(defect.Details is null || !defect.Details.ContainsKey("channel"), "all channels silent: no channel detail");
        var reference = await FfmpegReference.SilenceDetectAsync(clip);
        Assert.True(ClipAssert.Overlaps(reference, 2.0, 4.5, 7.0, minimum: 2.4));
    }

    [Fact]
    public async Task Analyze_OneDeadChannel_ReportsSilenceWithChannel()
    {
        // left 440 Hz throughout; right 660 Hz, dead from 2.0 to 5.0 s
        var clip = await TestClips.DeadRightChannel();
        var result = await Analysis.RunAsync(clip);
        var defect = Assert.Single(result.Of(Silence));
        ClipAssert.Interval(defect, 2.0, 5.0, ClipAssert.AudioTolerance);
        Assert.NotNull(defect.Details);
        Assert.Equal(1, defect.Details!["channel"]);
        // the trap: silencedetect needs every channel silent, so one dead channel goes unnoticed
        Assert.Empty(await FfmpegReference.SilenceDetectAsync(clip));
    }

    [Fact]
    public async Task Analyze_QuietSineAtMinus50Dbfs_ReportsNoSilence()
    {
        var clip = await TestClips.QuietSine();
        var result = await Analysis.RunAsync(clip);
        Assert.Equal(5.0, result.Summary.Duration, 0.05); // the audio was really analysed, to its end
        Assert.Empty(result.Ended);
        // silencedetect agrees here; the test guards against an over-eager level threshold
        Assert.Empty(await FfmpegReference.SilenceDetectAsync(clip));
    }

    [Fact]
    public async Task Analyze_QuietNoiseAtMinus50Dbfs_ReportsNoSilence()
    {
        var clip = await TestClips.QuietNoise();
        var result = await Analysis.RunAsync(clip);
        Assert.Equal(5.0, result.Summary.Duration, 0.05);
        Assert.Empty(result.Ended);
        Assert.Empty(await FfmpegReference.SilenceDetectAsync(clip));
    }

    [Fact]
    public async Task Analyze_ClickInsideSilence_ReportsOneUnbrokenSilence()
    {
        // silent 1.0–5.0 s with a 1 ms full-scale click at 2.5 s
        var clip = await TestClips.ClickInSilence();
        var result = await Analysis.RunAsync(clip);
        var defect = Assert.Single(result.Of(Silence));
        ClipAssert.Interval(defect, 1.0, 5.0, ClipAssert.AudioTolerance);
        // the trap: the click resets silencedetect, which reports only the 2.5 s after it and loses 1.0–2.5 s
        var reference = await FfmpegReference.SilenceDetectAsync(clip);
        var only = Assert.Single(reference);
        Assert.InRange(only.Start, 2.49, 2.52);
    }
}
