using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Tests;

/// <summary>Masks (<c>--set video.freeze.mask=x,y,w,h</c>) on synthetic pictures: what they hide, and that the rest still counts.</summary>
public class RegionMaskTests
{
    private const int Width = 320, Height = 176;
    private const double Fps = 25;

    private sealed class Sink : IDefectSink
    {
        public List<Defect> Ended { get; } = [];
        public void DefectStarted(Defect defect) { }
        public void DefectEnded(Defect defect) => Ended.Add(defect);
    }

    /// <summary>A still grey slate with detail, and a "clock" square in the top-right corner that changes every frame.</summary>
    private static VideoFrame Slate(int n, bool clock)
    {
        var frame = VideoFrame.Create(Width, Height, n / Fps);
        frame.Duration = 1 / Fps;
        var luma = frame.Luma;
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
                luma[y * Width + x] = (byte)(90 + (x / 20 + y / 20) % 2 * 60);
        if (clock)
            for (var y = 8; y < 40; y++)
                for (var x = Width - 48; x < Width - 16; x++)
                    luma[y * Width + x] = (byte)(n * 37 % 200 + 20);
        return frame;
    }

    private static List<Defect> RunFreeze(string? mask, int frames = 100)
    {
        var sink = new Sink();
        var settings = DetectorSettings.Parse(mask is null ? [] : [$"video.freeze.mask={mask}"]);
        var detector = new FreezeDetector(settings.Bind<FreezeOptions>(FreezeDetector.KindName), sink);
        for (var n = 0; n < frames; n++) detector.Process(Slate(n, clock: true));
        detector.Flush(frames / Fps);
        return sink.Ended;
    }

    [Fact]
    public void Freeze_SlateWithMovingClock_NotFrozen()
    {
        Assert.Empty(RunFreeze(mask: null));
    }

    [Fact]
    public void Freeze_SlateWithClockMasked_FrozenForTheWholeClip()
    {
        var defects = RunFreeze(mask: "0.8,0,0.2,0.3");

        var freeze = Assert.Single(defects);
        Assert.Equal(0, freeze.Start, 3);
        Assert.Equal(4.0, freeze.End!.Value, 2);
    }

    [Fact]
    public void Freeze_MaskElsewhere_ClockStillCountsAsMotion()
    {
        Assert.Empty(RunFreeze(mask: "0,0.7,0.3,0.3"));
    }

    private static List<Defect> RunBlack(string? mask)
    {
        var sink = new Sink();
        var settings = DetectorSettings.Parse(mask is null ? [] : [$"video.black.mask={mask}"]);
        var detector = new BlackDetector(settings.Bind<BlackOptions>(BlackDetector.KindName), sink);
        for (var n = 0; n < 50; n++)
        {
            // black with a bright caption box in the middle of the picture
            var frame = VideoFrame.Create(Width, Height, n / Fps);
            frame.Duration = 1 / Fps;
            var luma = frame.Luma;
            luma.Fill(16);
            for (var y = 70; y < 106; y++)
                for (var x = 100; x < 220; x++)
                    luma[y * Width + x] = 200;
            detector.Process(frame);
        }
        detector.Flush(2);
        return sink.Ended;
    }

    [Fact]
    public void Black_CentralCaptionOnBlack_NotBlack()
    {
        Assert.Empty(RunBlack(mask: null));
    }

    [Fact]
    public void Black_CentralCaptionMasked_Black()
    {
        var black = Assert.Single(RunBlack(mask: "0.25,0.35,0.5,0.3"));
        Assert.Equal(2.0, black.End!.Value, 2);
    }

    [Fact]
    public void Parse_TwoRegions_CoversBothAndRejectsOutOfRange()
    {
        var mask = RegionMask.Parse("0.8,0,0.2,0.3;0,0.9,1,0.1");

        Assert.True(mask.Covers(0.9, 0.1));
        Assert.True(mask.Covers(0.5, 0.95));
        Assert.False(mask.Covers(0.5, 0.5));
        Assert.Throws<FormatException>(() => RegionMask.Parse("0.8,0,0.3"));
        Assert.Throws<ArgumentException>(() => DetectorSettings.Parse(["video.freeze.mask=1.2,0,0.1,0.1"]).Bind<FreezeOptions>(FreezeDetector.KindName));
    }
}
