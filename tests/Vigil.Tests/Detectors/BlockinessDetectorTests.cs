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

    [Theory]
    [InlineData("mpeg2video")]
    [InlineData("h264")]
    [InlineData("hevc")]
    public void Process_SmoothRamp_NotBlocky(string codec)
    {
        // flat inside every block too, but its level changes as much inside a macroblock as across one
        Assert.Empty(Run(codec, _ => false));
    }

    /// <summary>
    /// What starved H.264 leaves after deblocking: 16×16 patches flat inside, levels a few code values
    /// apart, each edge ramped over 7 px (a box blur), so no flat-sided step is left anywhere.
    /// </summary>
    private static VideoFrame DeblockedPatches(int n, int patch = 16)
    {
        const int width = 320, height = 176, radius = 3;
        var frame = VideoFrame.Create(width, height, n * Frame);
        frame.Duration = Frame;
        static int Level(int px, int py, int n) => 100 + (px * 7 + py * 13 + n) % 4 * 4;
        var luma = frame.Luma;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var total = 0;
                for (var dy = -radius; dy <= radius; dy++)
                    for (var dx = -radius; dx <= radius; dx++)
                        total += Level(Math.Clamp(x + dx, 0, width - 1) / patch, Math.Clamp(y + dy, 0, height - 1) / patch, n);
                luma[y * width + x] = (byte)Math.Round(total / 49.0);
            }
        frame.MeasureGrid();
        return frame;
    }

    [Theory]
    [InlineData("h264", 16)]
    [InlineData("hevc", 32)]
    public void Process_DeblockedFlatPatches_Blocky(string codec, int patch)
    {
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink, codec);
        for (var n = 0; n < 30; n++)
        {
            detector.Process(DeblockedPatches(n, patch));
            Assert.True(detector.LastScore >= 1, $"frame {n}: score {detector.LastScore}");
        }
        detector.Flush(30 * Frame);
        Assert.Single(sink.Ended);
    }

    [Fact]
    public void Process_DeblockedFlatPatchesOnAnMpeg2Stream_NotLookedFor()
    {
        // MPEG-2 has no in-loop deblocking: its blocking keeps flat-sided steps, and smeared patches are not its artefact
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink, "mpeg2video");
        for (var n = 0; n < 30; n++)
        {
            detector.Process(DeblockedPatches(n));
            Assert.True(detector.LastScore < 1, $"frame {n}: score {detector.LastScore}");
        }
        detector.Flush(30 * Frame);
        Assert.Empty(sink.Ended);
    }

    [Fact]
    public void Process_DeblockedPatchesOffTheGrid_NotBlocky()
    {
        // the same mosaic shifted 8 px off the macroblock grid: as many steps, but not where a codec puts them
        var sink = new Sink();
        var detector = new BlockinessDetector(new BlockinessOptions(), sink, "h264");
        const int width = 320, height = 176;
        for (var n = 0; n < 30; n++)
        {
            var source = DeblockedPatches(n);
            var frame = VideoFrame.Create(width, height, n * Frame);
            frame.Duration = Frame;
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    frame.Luma[y * width + x] = source.Luma[Math.Max(0, y - 8) * width + Math.Max(0, x - 8)];
            frame.MeasureGrid();
            detector.Process(frame);
            Assert.True(detector.LastScore < 1, $"frame {n}: score {detector.LastScore}");
        }
        detector.Flush(30 * Frame);
        Assert.Empty(sink.Ended);
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
        var steps = Assert.Throws<ArgumentException>(() =>
            OptionTable<BlockinessOptions>.Validate(new BlockinessOptions { BlockStep = 16, BlockStepCap = 15 }, BlockinessDetector.KindName));
        Assert.Contains("video.blockiness.block_step_cap must be between 16 (block_step) and 2040 (got 15)", steps.Message);
        var patches = Assert.Throws<ArgumentException>(() =>
            OptionTable<BlockinessOptions>.Validate(new BlockinessOptions { PatchStep = 3, PatchStepCap = 2 }, BlockinessDetector.KindName));
        Assert.Contains("video.blockiness.patch_step_cap must be between 3 (patch_step) and 255 (got 2)", patches.Message);
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
