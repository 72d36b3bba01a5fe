using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Tests;

/// <summary>The blockiness decision on synthetic full-resolution pictures with measured grid statistics.</summary>
public class BlockinessDetectorTests
{
    private const double Frame = 0.04;

    private sealed class Sink : IDefectSink
    {
        public List<Defect> Ended { get; } = [];
        public void DefectStarted(Defect defect) { }
        public void DefectEnded(Defect defect) => Ended.Add(defect);
    }

    /// <summary>A smooth diagonal ramp, optionally quantised into flat 8×8 blocks (what a starved DCT codec leaves).</summary>
    private static VideoFrame Picture(int n, bool blocky)
    {
        const int width = 320, height = 176;
        var frame = VideoFrame.Create(width, height, n * Frame);
        frame.Duration = Frame;
        var luma = frame.Luma;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (sx, sy) = blocky ? (x / 8 * 8 + 4, y / 8 * 8 + 4) : (x, y);
                luma[y * width + x] = (byte)(30 + (sx + 2 * sy + n) / 3 % 200);
            }
        frame.MeasureGrid();
        return frame;
    }

    private static List<Defect> Run(string? codec, Func<int, bool> blocky, int frames = 75)
    {
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink, codec);
        for (var n = 0; n < frames; n++) detector.Process(Picture(n, blocky(n)));
        detector.Flush(frames * Frame);
        return sink.Ended;
    }

    [Fact]
    public void Process_SmoothRamp_NotBlocky()
    {
        Assert.Empty(Run("mpeg2video", _ => false));
    }

    [Fact]
    public void Process_BlockyForTwoSeconds_OneDefectOverThatStretch()
    {
        var defect = Assert.Single(Run("mpeg2video", n => n is >= 25 and < 75, frames: 100));

        Assert.Equal(25 * Frame, defect.Start, 6);
        Assert.Equal(75 * Frame, defect.End!.Value, 6);
        Assert.True(defect.Details!["score"] >= 1);
    }

    [Fact]
    public void Process_BlockyUnderMinimumDuration_NoDefect()
    {
        Assert.Empty(Run("h264", n => n is >= 10 and < 30));
    }

    [Fact]
    public void Process_OnlyEveryTwelfthPictureBlocky_NoDefect()
    {
        // a clean MPEG-2 stream whose I-frames alone show steps must not count as sustained blocking
        Assert.Empty(Run("mpeg2video", n => n % 12 == 0, frames: 100));
    }

    [Fact]
    public void Process_FlatSquaresOnTheGrid_NotBlocky()
    {
        // graphics on the 8-px grid (one 8x8 square in every 16x16 cell: a quarter of the blocks, both edges
        // stepped by 120 code values) are content edges, far larger than any quantiser step
        const int width = 320, height = 176;
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink, "h264");
        for (var n = 0; n < 50; n++)
        {
            var frame = VideoFrame.Create(width, height, n * Frame);
            frame.Duration = Frame;
            var luma = frame.Luma;
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    luma[y * width + x] = (byte)(x % 16 >= 8 && y % 16 >= 8 ? 180 : 60);
            frame.MeasureGrid();
            detector.Process(frame);
            Assert.True(detector.LastScore < 1, $"score {detector.LastScore}");
        }
        detector.Flush(50 * Frame);
        Assert.Empty(sink.Ended);
    }

    [Fact]
    public void Options_StepCapBelowStep_Rejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => new BlockinessOptions { BlockStep = 16, BlockStepCap = 15 }.Validate());
        Assert.ThrowsAny<ArgumentException>(() => new BlockinessOptions { PatchStep = 3, PatchStepCap = 2 }.Validate());
    }

    [Fact]
    public void Process_NoGridStatistics_NoVerdict()
    {
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink);
        for (var n = 0; n < 50; n++)
        {
            var frame = VideoFrame.Create(64, 48, n * Frame);
            frame.Duration = Frame;
            detector.Process(frame);
            Assert.True(double.IsNaN(detector.LastScore));
        }
        detector.Flush(2);
        Assert.Empty(sink.Ended);
    }
}
