using System.Globalization;
using Vigil.Detectors.Sync;
using Xunit.Abstractions;

namespace Vigil.Tests.Sync;

/// <summary>Shared checks and the error-table line every clip test prints.</summary>
internal static class SyncAssert
{
    /// <summary>Every window estimate within <paramref name="maxErrorMs"/> of the truth; prints the table line.</summary>
    public static void Estimates(ITestOutputHelper output, string clip, SyncClips.Result result, int trueMs, double maxErrorMs)
    {
        Assert.NotEmpty(result.Estimates);
        var errors = result.Estimates.Select(e => e.Offset * 1000 - trueMs).ToList();
        var worst = errors.MaxBy(Math.Abs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {clip} | {trueMs} | {result.MedianOffsetMs:0.0} | {result.MedianOffsetMs - trueMs:+0.0;-0.0;0.0} | {worst:+0.0;-0.0;0.0} | {result.Estimates.Count} | {result.Estimates.Average(e => e.Confidence):0.00} | {result.Sync.Count} |"));
        Assert.All(errors, e => Assert.InRange(e, -maxErrorMs, maxErrorMs));
    }

    public static bool OutOfTolerance(int offsetMs) => offsetMs > 125 || offsetMs < -45;
}

/// <summary>Beep+flash sync patterns shifted by known amounts: the offset to within 20 ms, defects only outside tolerance.</summary>
public sealed class AvSyncBeepFlashTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(25, -300)]
    [InlineData(25, -150)]
    [InlineData(25, -60)]
    [InlineData(25, 0)]
    [InlineData(25, 60)]
    [InlineData(25, 150)]
    [InlineData(25, 300)]
    [InlineData(30, -300)]
    [InlineData(30, -150)]
    [InlineData(30, -60)]
    [InlineData(30, 0)]
    [InlineData(30, 60)]
    [InlineData(30, 150)]
    [InlineData(30, 300)]
    public void Analyse_ShiftedBeepFlash_MeasuresOffsetWithin20ms(double fps, int offsetMs)
    {
        var result = SyncClips.Analyse(SyncClips.BeepFlash(fps, offsetMs));

        SyncAssert.Estimates(output, $"beep+flash {fps} fps", result, offsetMs, 20);
        if (SyncAssert.OutOfTolerance(offsetMs))
        {
            var defect = Assert.Single(result.Sync);
            Assert.InRange(defect.Details!["offset_ms"], offsetMs - 20, offsetMs + 20);
            Assert.InRange(defect.Start, 0, 1.5);   // first flash at 0.6 s
            Assert.InRange(defect.End!.Value, 15.5, 16.5);
            Assert.True(defect.Details["events"] >= 3);
        }
        else
        {
            Assert.Empty(result.Sync);
        }
    }

    [Theory]
    [InlineData(25, 0, 300)]
    [InlineData(30, 0, -150)]
    [InlineData(25, 200, -100)]
    public void Analyse_OffsetChangesMidClip_ReportsTheChange(double fps, int firstMs, int secondMs)
    {
        const double changeAt = 12;
        var result = SyncClips.Analyse(SyncClips.BeepFlashChanging(fps, firstMs, secondMs, changeAt, 24));

        var before = result.Estimates.Where(e => e.LastEvent < changeAt).ToList();
        var after = result.Estimates.Where(e => e.FirstEvent > changeAt).ToList();
        Assert.NotEmpty(before);
        Assert.NotEmpty(after);
        Assert.All(before, e => Assert.InRange(e.Offset * 1000, firstMs - 20, firstMs + 20));
        Assert.All(after, e => Assert.InRange(e.Offset * 1000, secondMs - 20, secondMs + 20));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| beep+flash {fps} fps, change at 12 s | {firstMs} → {secondMs} | {before.Average(e => e.Offset * 1000):0.0} → {after.Average(e => e.Offset * 1000):0.0} | | | {result.Estimates.Count} | | {result.Sync.Count} |"));

        // one defect per out-of-tolerance stretch, split where the offset changed
        var expected = new[] { firstMs, secondMs }.Where(SyncAssert.OutOfTolerance).ToList();
        Assert.Equal(expected.Count, result.Sync.Count);
        foreach (var defect in result.Sync)
        {
            var offset = defect.Details!["offset_ms"];
            var truth = Math.Abs(offset - firstMs) < Math.Abs(offset - secondMs) ? firstMs : secondMs;
            Assert.InRange(offset, truth - 20, truth + 20);
            if (truth == secondMs) Assert.InRange(defect.Start, changeAt - 1, changeAt + 1);
            else Assert.InRange(defect.End!.Value, changeAt - 1, changeAt + 1);
        }
    }
}

/// <summary>
/// The line-up signal operators check lip sync with (a flash and a 40 ms beep once a period): the correlation
/// has equal peaks one period apart, and the offset is the smallest of them. Periods 1 s and 2 s, 25, 29.97,
/// 30 and 50 fps; offsets outside tolerance are reported once, those inside (the traps) never.
/// </summary>
public sealed class AvSyncLineUpTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(25, 1, 1.0, 200)]
    [InlineData(25, 1, 1.0, -120)]
    [InlineData(30, 1, 1.0, -80)]
    [InlineData(25, 1, 1.0, -200)]
    [InlineData(30000, 1001, 1.0, 300)]
    [InlineData(30000, 1001, 1.0, -60)]
    [InlineData(50, 1, 1.0, 150)]
    [InlineData(50, 1, 2.0, -250)]
    [InlineData(25, 1, 2.0, 450)]
    [InlineData(30, 1, 2.0, -150)]
    [InlineData(30000, 1001, 2.0, -100)]
    // traps: inside the tolerance (early ≤ 45 ms, late ≤ 125 ms)
    [InlineData(25, 1, 1.0, 0)]
    [InlineData(30000, 1001, 1.0, 100)]
    [InlineData(50, 1, 1.0, -40)]
    [InlineData(30, 1, 2.0, 120)]
    public void Analyse_LineUpSignal_SmallestOffsetWithin20ms(int fpsNum, int fpsDen, double period, int offsetMs)
    {
        var fps = fpsNum / (double)fpsDen;
        var result = SyncClips.Analyse(SyncClips.LineUp(fpsNum, fpsDen, period, offsetMs));

        SyncAssert.Estimates(output, string.Create(CultureInfo.InvariantCulture, $"line-up {fps:0.##} fps, every {period} s"), result, offsetMs, 20);
        if (SyncAssert.OutOfTolerance(offsetMs))
        {
            var defect = Assert.Single(result.Sync);
            Assert.InRange(defect.Details!["offset_ms"], offsetMs - 20, offsetMs + 20);
            Assert.InRange(defect.Start, 0, 1.5);
            Assert.InRange(defect.End!.Value, 19, 20.5);
        }
        else
        {
            Assert.Empty(result.Sync);
        }
    }
}

/// <summary>Edited content (cuts with matching sound changes): the offset to within 40 ms.</summary>
public sealed class AvSyncEditedTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(25, 0)]
    [InlineData(30, 0)]
    [InlineData(25, 200)]
    [InlineData(30, -100)]
    [InlineData(25, -250)]
    public void Analyse_EditedContent_MeasuresOffsetWithin40ms(double fps, int offsetMs)
    {
        var result = SyncClips.Analyse(SyncClips.Edited(offsetMs, fps));

        SyncAssert.Estimates(output, $"edited {fps} fps", result, offsetMs, 40);
        if (SyncAssert.OutOfTolerance(offsetMs))
        {
            var defect = Assert.Single(result.Sync);
            Assert.InRange(defect.Details!["offset_ms"], offsetMs - 40, offsetMs + 40);
        }
        else
        {
            Assert.Empty(result.Sync);
        }
    }
}

/// <summary>Content that gives no evidence: the detector says nothing rather than guessing.</summary>
public sealed class AvSyncNoEvidenceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Analyse_StillPictureWithToneOrSilence_NoEstimateNoDefect(bool tone)
    {
        var result = SyncClips.Analyse(SyncClips.Static(tone));

        Assert.Empty(result.Estimates);
        Assert.Empty(result.Sync);
        Assert.Equal(0, result.TimestampSkew, 9);
    }
}

/// <summary>Timestamp-level faults: one track shifted in the container.</summary>
public sealed class AvSyncTimestampTests(ITestOutputHelper output)
{
    [Fact]
    public void Analyse_AudioShiftedWithItsOffset_ContentAndStartTimestampsAgree()
    {
        // an in-sync clip re-muxed with its audio timestamps starting 300 ms late
        var result = SyncClips.Analyse(SyncClips.ItsOffset(SyncClips.BeepFlash(25, 0), 300));

        SyncAssert.Estimates(output, "beep+flash 25 fps, -itsoffset 0.3 on audio (TS remux)", result, 300, 20);
        var defect = Assert.Single(result.Sync);
        Assert.InRange(defect.Details!["offset_ms"], 280, 320);
        // the TS keeps the AAC encoder's 1024 priming samples (21 ms) that the MP4 edit list hid
        Assert.InRange(defect.Details["pts_start_offset_ms"], 300 - 25, 320);
    }

    [Fact]
    public void Analyse_AudioTimestampsJumpOnStaticContent_NoVerdictFromTheJumpAlone()
    {
        // still picture, steady tone: no content evidence; at 4 s every audio timestamp moves 300 ms later.
        // Lost audio looks the same in timestamps (a player then plays the rest on time): no av.sync.
        var result = SyncClips.Analyse(SyncClips.AudioTimestampJump(300, at: 4));

        Assert.Empty(result.Estimates);
        Assert.Empty(result.Sync);
    }

    [Fact]
    public void Analyse_AudioTimestampsDriftOnStaticContent_ReportedFromTimestamps()
    {
        // still picture, steady tone, both tracks continuous; the audio timestamps run 0.25 % fast (2.5 ms a
        // second): a sustained, consistent skew, past 125 ms late at 50 s
        var result = SyncClips.Analyse(SyncClips.AudioTimestampDrift(1.0025, 90));

        Assert.Empty(result.Estimates);
        Assert.NotEmpty(result.Sync);
        var first = result.Sync[0];
        Assert.InRange(first.Start, 47, 56);
        Assert.InRange(first.Details!["offset_ms"], 126, 180);
        Assert.Equal(0, first.Details["events"]);
        Assert.Equal(0.5, first.Confidence, 3);
        Assert.All(result.Sync, d => Assert.InRange(d.Details!["offset_ms"], 126, 240));
        output.WriteLine($"| still + tone, audio PTS drifting 2.5 ms/s (MKV, PCM) | 125 at 50 s | {first.Details["offset_ms"]} from {first.Start:0.0} s (timestamps) | | | 0 | 0.5 | {result.Sync.Count} |");
    }

    [Fact]
    public void Analyse_HevcOpusMatroskaWithFreeze_NoSyncDefect()
    {
        // 1 ms rounding (33/34 ms frames), Opus pre-skip, a 3 s freeze: none of these is a sync error
        if (SyncClips.HevcOpusFreeze() is not { } clip) return; // no libx265
        var result = SyncClips.Analyse(clip);

        Assert.Empty(result.Sync);
        Assert.InRange(result.TimestampSkew, -0.002, 0.002);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Analyse_GarbageBurst_NoSyncDefect(bool lineUp)
    {
        // 5 s of random bytes in place of the stream (both tracks lose media, the video until its next key frame):
        // on a still picture with a tone (timestamps only) and on a line-up signal in sync (content)
        var source = lineUp ? SyncClips.LineUpTs(60) : SyncClips.StaticTs(60);
        var result = SyncClips.Analyse(SyncClips.GarbageBurst(source, 20 / 60.0, 25 / 60.0));

        Assert.Empty(result.Sync);
        if (lineUp) Assert.All(result.Estimates, e => Assert.InRange(e.Offset, -0.02, 0.02));
    }
}
