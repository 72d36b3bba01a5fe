using Vigil.Detectors;
using Vigil.Pipeline;

namespace Vigil.Tests.Pipeline;

/// <summary>
/// The pipeline's one timeline, scenario by scenario as TSDuck's tests do: each scenario is a table of
/// items as the converter hands them over (track, raw pts, duration), in demux order, with the media
/// time each must map to and the break, if any, the detectors must hear of before it.
/// </summary>
public sealed class TimelineTests
{
    /// <summary>MPEG-TS timestamps count 90 kHz ticks in 33 bits: they wrap after this many seconds.</summary>
    private const double Wrap = 8_589_934_592 / 90_000.0; // 95443.7176888…

    private const double F = 0.04;          // a 25 fps frame
    private const double A = 1024 / 48000.0; // an AAC frame

    /// <summary>One row: an item in, what must come out. <c>Codec</c> rows announce a codec change on the track instead.</summary>
    private sealed record Row(MediaTrack Track, double Raw, double Duration, double Expect, DiscontinuityCause? Break, bool Codec = false);

    private static Row V(double raw, double expect, DiscontinuityCause? broke = null, double duration = F) => new(MediaTrack.Video, raw, duration, expect, broke);
    private static Row Au(double raw, double expect, DiscontinuityCause? broke = null) => new(MediaTrack.Audio, raw, A, expect, broke);
    private static Row CodecChange(MediaTrack track) => new(track, 0, 0, 0, null, Codec: true);

    private static readonly Dictionary<string, Row[]> Scenarios = new()
    {
        ["continuous video"] = [V(10, 10), V(10 + F, 10 + F), V(10 + 2 * F, 10 + 2 * F)],

        // the 33-bit clock wraps under both tracks: one epoch, media time goes on, A/V alignment is kept
        ["33-bit wrap"] =
        [
            V(Wrap - 2 * F, Wrap - 2 * F), Au(Wrap - 0.06, Wrap - 0.06),
            V(Wrap - F, Wrap - F), Au(Wrap - 0.06 + A, Wrap - 0.06 + A),
            V(0.0, Wrap, DiscontinuityCause.Jump),   // wrapped exactly at a frame boundary
            Au(Wrap - 0.06 + 2 * A, Wrap - 0.06 + 2 * A), // audio a little behind has not wrapped yet
            V(F, Wrap + F),
            Au(3 * A - 0.06, Wrap - 0.06 + 3 * A, DiscontinuityCause.Jump), // now it wraps too: joins the video's epoch
        ],

        // a splice to a feed whose clock is elsewhere: both tracks land together, continue where they were
        ["splice"] =
        [
            V(100, 100), Au(100, 100), V(100 + F, 100 + F), Au(100 + A, 100 + A),
            V(5000, 100 + 2 * F, DiscontinuityCause.Jump), Au(5000.01, 100 + 2 * F + 0.01, DiscontinuityCause.Jump),
            V(5000 + F, 100 + 3 * F),
        ],

        // the encoder restarted its clock: time must not go backwards
        ["backward jump"] = [V(3600, 3600), V(3600 + F, 3600 + F), V(2, 3600 + 2 * F, DiscontinuityCause.Jump), V(2 + F, 3600 + 3 * F)],

        // reordering jitter is not a jump; a picture overlapping the previous one is still a break for detectors
        ["small backward step"] =
        [
            V(10, 10), V(10 + F, 10 + F), V(10 + F + F / 2, 10 + F + F / 2, DiscontinuityCause.Overlap),
            Au(10, 10), Au(10 + A - 0.05, 10 + A - 0.05), // audio 50 ms early: within its alignment, no break
        ],

        // media missing: a hole is kept in media time; only past the track's tolerance is it a break
        ["holes"] =
        [
            Au(0, 0), Au(A + 0.2, A + 0.2, DiscontinuityCause.Hole), // 0.2 s of audio missing: samples are contiguous
            V(0, 0), V(0.5, 0.5),                           // 0.46 s of pictures missing: frames lost, no break
            V(3.0, 3.0, DiscontinuityCause.Hole),           // 2.46 s: a break
            V(12.9, 12.9, DiscontinuityCause.Hole),         // 9.86 s: still a hole, not yet a jump
            V(23.0, 12.94, DiscontinuityCause.Jump),        // 10.06 s: a jump, media time continues
        ],

        // a new elementary stream: a break whatever its timestamps do
        ["codec change"] =
        [
            V(1, 1), V(1 + F, 1 + F), CodecChange(MediaTrack.Video),
            V(1 + 2 * F, 1 + 2 * F, DiscontinuityCause.CodecChange), V(1 + 3 * F, 1 + 3 * F),
            CodecChange(MediaTrack.Video), V(0, 1 + 4 * F, DiscontinuityCause.CodecChange), // a new sender: its clock starts at 0
            V(F, 1 + 5 * F),
        ],

        // demux order runs audio up to half a second ahead of the picture: nothing to see
        ["A/V interleave"] =
        [
            Au(0, 0), Au(A, A), Au(2 * A, 2 * A), Au(3 * A, 3 * A), Au(4 * A, 4 * A), Au(5 * A, 5 * A),
            V(0, 0), V(F, F), Au(6 * A, 6 * A), V(2 * F, 2 * F), V(3 * F, 3 * F), Au(7 * A, 7 * A),
        ],

        // no pts: the item continues the track; no duration: the nominal rate
        ["missing pts"] =
        [
            V(double.NaN, 0), V(double.NaN, F), V(5, 5, DiscontinuityCause.Hole), V(double.NaN, 5 + F),
            V(double.NaN, 5 + 2 * F, duration: double.NaN), V(double.NaN, 5 + 3 * F, duration: 0),
        ],
    };

    [Theory]
    [InlineData("continuous video")]
    [InlineData("33-bit wrap")]
    [InlineData("splice")]
    [InlineData("backward jump")]
    [InlineData("small backward step")]
    [InlineData("holes")]
    [InlineData("codec change")]
    [InlineData("A/V interleave")]
    [InlineData("missing pts")]
    public void Map_Scenario_GivesMediaTimeAndBreaks(string scenario)
    {
        var timeline = new Timeline();
        var last = new Dictionary<MediaTrack, double>();
        var row = 0;
        foreach (var r in Scenarios[scenario])
        {
            row++;
            if (r.Codec)
            {
                timeline.CodecChanged(r.Track);
                continue;
            }
            var step = timeline.Map(r.Track, r.Raw, r.Duration, F);
            var where = $"{scenario}, row {row} ({r.Track} raw {r.Raw})";
            Assert.True(Math.Abs(r.Expect - step.Pts) < 1e-6, $"{where}: media time {step.Pts:0.######}, expected {r.Expect:0.######}");
            Assert.True(r.Break == step.Break?.Cause, $"{where}: break {step.Break?.Cause.ToString() ?? "none"}, expected {r.Break?.ToString() ?? "none"}");
            if (step.Break is { } broke)
            {
                Assert.Equal(r.Track, broke.Track);
                Assert.Equal(last[r.Track], broke.At, 6); // where the track's media last ended
                Assert.Equal(step.Pts, broke.Resume, 6);
            }
            Assert.True(step.Duration > 0, $"{where}: duration {step.Duration}");
            last[r.Track] = step.Pts + step.Duration;
        }
    }

    [Fact]
    public void Map_Jump_ReportsTheRawJumpAndNoHole()
    {
        var timeline = new Timeline();
        timeline.Map(MediaTrack.Video, 100, F, F);
        var step = timeline.Map(MediaTrack.Video, 7, F, F);
        Assert.Equal(7 - (100 + F), step.Jump, 6);
        Assert.Equal(0, step.Hole);
        Assert.Equal(0, step.Break!.Value.Missing, 9); // media time is continuous across it
    }

    [Fact]
    public void Map_FramesLost_HoleIsTheMissingMediaTime()
    {
        var timeline = new Timeline();
        timeline.Map(MediaTrack.Video, 0, F, F);
        var step = timeline.Map(MediaTrack.Video, 0.2, F, F); // 4 frames lost
        Assert.Equal(0.16, step.Hole, 6);
        Assert.True(double.IsNaN(step.Jump));
        Assert.True(step.Hole > Continuity.FrameGapFactor * F); // evidence of lost frames (a FrameGap event)
        Assert.Null(step.Break);                               // but no break: a picture every 0.2 s still continues
    }

    [Fact]
    public void MapEvent_WithAndWithoutTimestamp_FollowsTheTrackEpoch()
    {
        var timeline = new Timeline();
        timeline.Map(MediaTrack.Video, 100, F, F);
        timeline.Map(MediaTrack.Video, 0, F, F); // clock restarts: offset 100.04
        Assert.Equal(100 + F + 0.5, timeline.MapEvent(MediaTrack.Video, 0.5), 6);
        Assert.Equal(100 + 2 * F, timeline.MapEvent(null, double.NaN), 6); // no timestamp: where the media is
        Assert.Equal(100 + 2 * F, timeline.MapEvent(MediaTrack.Video, double.NaN), 6);
    }
}
