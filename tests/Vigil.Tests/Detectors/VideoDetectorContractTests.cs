using Vigil.Detectors;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for video detectors, plus what only pictures have: the resolution can change
/// mid-stream (an adaptive stream switching renditions) and the detector must follow, not crash or
/// compare pictures of different sizes. Frames are 25 fps; "normal" frames are fresh random texture
/// unless the detector says otherwise.
/// </summary>
public abstract class VideoDetectorContractTests : DetectorContractTests
{
    /// <summary>Picture size fed next; tests change it mid-stream.</summary>
    protected (int Width, int Height) Size { get; set; } = (320, 240);

    protected override double Unit => 0.04;

    protected override MediaTrack[] Tracks => [MediaTrack.Video];

    /// <summary>Fills a "defect" picture (black, the same picture every time, blocky, damaged); its luma is the frame's size.</summary>
    protected abstract void FillDefect(VideoFrame frame);

    /// <summary>Fills a "normal" picture: texture unlike any other frame's.</summary>
    protected virtual void FillNormal(VideoFrame frame) => Synthetic.FillNoise(frame.Luma, Seed(frame.Pts));

    /// <summary>A seed that depends on the time only, so that the same timeline gives the same pictures.</summary>
    protected static int Seed(double pts) => (int)Math.Round(pts * 1000) + 1;

    private VideoFrame Make(double pts, bool defect)
    {
        var frame = VideoFrame.Create(Size.Width, Size.Height, pts);
        frame.Duration = Unit;
        if (defect) FillDefect(frame);
        else FillNormal(frame);
        return frame;
    }

    protected override void Feed(IDetector detector, double pts, bool defect) => ((IVideoDetector)detector).Process(Make(pts, defect));

    protected override Action<double> Reusing(IDetector detector, bool defect)
    {
        var frames = Enumerable.Range(0, 8).Select(i => Make(i * Unit, defect)).ToArray();
        var video = (IVideoDetector)detector;
        var next = 0;
        return pts =>
        {
            var frame = frames[next++ % frames.Length];
            frame.Pts = pts;
            video.Process(frame);
        };
    }

    [Theory]
    [InlineData(640, 360)]
    [InlineData(250, 130)] // not a multiple of the 16-pixel cell
    public void Process_ResolutionChangeDuringDefect_KeepsDetecting(int width, int height) =>
        AssertFormatChangeDuringDefectKeepsDetecting(() => Size = (width, height));

    [Fact]
    public void Process_ResolutionChangeWithNormalContent_EmitsNothing() =>
        AssertFormatChangesWithNormalContentEmitNothing(() => Size = (176, 144), () => Size = (640, 360));
}
