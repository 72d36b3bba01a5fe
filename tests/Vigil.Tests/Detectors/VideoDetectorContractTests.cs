using Vigil.Detectors;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for video detectors, plus what only pictures have: the resolution can change
/// mid-stream (an adaptive stream switching renditions) and the detector must follow, not crash or
/// compare pictures of different sizes. Frames are 25 fps; "normal" frames are fresh random texture.
/// </summary>
public abstract class VideoDetectorContractTests : DetectorContractTests
{
    private int _seed = 1000;

    /// <summary>Picture size fed next; tests change it mid-stream.</summary>
    protected (int Width, int Height) Size { get; set; } = (320, 240);

    protected override double Unit => 0.04;

    protected override MediaTrack Track => MediaTrack.Video;

    /// <summary>Fills a "defect" picture (black, or the same picture every time).</summary>
    protected abstract void FillDefect(Span<byte> luma, int width, int height);

    protected override void Feed(IDetector detector, double pts, bool defect)
    {
        var frame = VideoFrame.Create(Size.Width, Size.Height, pts);
        frame.Duration = Unit;
        if (defect) FillDefect(frame.Luma, Size.Width, Size.Height);
        else Synthetic.FillNoise(frame.Luma, _seed++);
        ((IVideoDetector)detector).Process(frame);
    }

    [Theory]
    [InlineData(640, 360)]
    [InlineData(250, 130)] // not a multiple of the 16-pixel cell
    public void Process_ResolutionChangeDuringDefect_KeepsDetecting(int width, int height)
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        t = FeedSpan(detector, t, 0.5, defect: true);
        Size = (width, height);
        var change = t;
        var end = FeedSpan(detector, t, MinDuration + 0.5, defect: true);
        detector.Flush(end);
        var defects = WellFormed(sink, detector);
        Assert.NotEmpty(defects);
        var last = defects[^1];
        Assert.InRange(last.Start, 1.0 - 1e-6, change + Unit + 1e-6);
        Assert.Equal(end, last.End!.Value, 6);
    }

    [Fact]
    public void Process_ResolutionChangeWithNormalContent_EmitsNothing()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        Size = (176, 144);
        t = FeedSpan(detector, t, 1, defect: false);
        Size = (640, 360);
        t = FeedSpan(detector, t, MinDuration + 1, defect: false);
        detector.Flush(t);
        Assert.Empty(sink.All);
    }
}
