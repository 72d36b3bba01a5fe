using Vigil.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The contract every detector keeps, whatever it detects (after dotnet/runtime's ChannelTestBase):
/// an empty stream reports nothing; an interval still open at the end is closed by Flush, marked
/// <c>closed_by</c>; a defect is announced (defect_start, no end) before it ends; timestamps that jump
/// backwards or forwards never crash it, never give an event a negative length and never let one
/// interval straddle the jump; ticks while input flows change nothing, and a defect whose input stops
/// closes on a tick. Units go through the real <see cref="Vigil.Pipeline.Timeline"/> as in the pipeline
/// (<see cref="TimelineFeed"/>): raw timestamps in, media time and breaks out, a tick after each unit.
/// Each detector's test class inherits this and says how to feed it one unit of "defect" or "normal"
/// content (a black / frozen / silent unit, or a fresh textured picture / a tone).
/// </summary>
public abstract class DetectorContractTests
{
    private readonly Dictionary<IDetector, TimelineFeed> _feeds = new(ReferenceEqualityComparer.Instance);

    /// <summary>The track the detector's unit belongs to.</summary>
    protected abstract MediaTrack Track { get; }

    /// <summary>Builds the detector under test with its default options.</summary>
    protected abstract IDetector Create(IDefectSink sink);

    /// <summary>Feeds one unit of <see cref="Unit"/> seconds starting at <paramref name="pts"/>.</summary>
    protected abstract void Feed(IDetector detector, double pts, bool defect);

    /// <summary>Length of one fed unit in seconds (a video frame, an audio block).</summary>
    protected abstract double Unit { get; }

    /// <summary>The detector's default minimum duration.</summary>
    protected abstract double MinDuration { get; }

    /// <summary>
    /// Feeds units stamped from <paramref name="from"/> (raw time) for <paramref name="seconds"/> through the
    /// timeline, ticking after each; returns the media time where the last unit ended.
    /// </summary>
    protected double FeedSpan(IDetector detector, double from, double seconds, bool defect)
    {
        if (!_feeds.TryGetValue(detector, out var feed)) _feeds[detector] = feed = new TimelineFeed(detector);
        var count = (int)Math.Round(seconds / Unit);
        var end = double.NaN;
        for (var i = 0; i < count; i++)
        {
            var pts = feed.Map(Track, from + i * Unit, Unit);
            Feed(detector, pts, defect);
            end = pts + Unit;
            detector.Tick(end);
        }
        return end;
    }

    /// <summary>Checks what must hold for any sequence of events, then returns the ended defects.</summary>
    protected IReadOnlyList<Defect> WellFormed(RecordingSink sink, IDetector detector)
    {
        foreach (var (_, defect) in sink.All)
        {
            Assert.Equal(detector.Kind, defect.Kind);
            Assert.InRange(defect.Confidence, 0, 1);
            Assert.True(double.IsFinite(defect.Start), $"start {defect.Start}");
        }
        foreach (var started in sink.Started) Assert.Null(started.End);
        foreach (var ended in sink.Ended)
        {
            Assert.NotNull(ended.End);
            Assert.True(ended.End >= ended.Start, $"negative length: {ended.Start} → {ended.End}");
        }
        // every defect_start is followed by exactly one defect of the same identity, in order
        var open = new List<Defect>();
        foreach (var (isStart, defect) in sink.All)
        {
            if (isStart) { open.Add(defect); continue; }
            var match = open.FindIndex(s => s.Key == defect.Key);
            Assert.True(match >= 0, $"defect {defect.Start}→{defect.End} ended without having started");
            open.RemoveAt(match);
        }
        Assert.Empty(open);
        return sink.Ended;
    }

    private void AssertNear(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Unit + 1e-6, $"expected {expected:0.###} ± {Unit}, got {actual:0.###}");

    [Fact]
    public void Flush_EmptyStream_EmitsNothing()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        detector.Flush(0);
        detector.Flush(10);
        Assert.Empty(sink.All);
    }

    [Fact]
    public void Flush_DefectOpenAtEnd_ClosesItAtTheEnd()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        var end = FeedSpan(detector, t, MinDuration + 1, defect: true);
        Assert.Single(sink.Started);   // announced as soon as it lasted the minimum duration
        Assert.Empty(sink.Ended);      // but not over yet
        detector.Flush(end);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(1.0, defect.Start);
        AssertNear(end, defect.End!.Value);
        Assert.Equal(ClosedBy.EndOfInput, defect.ClosedBy); // the monitor closed it, not the media
    }

    [Fact]
    public void Flush_InputFailedDuringDefect_ClosesItAtTheLastMediaTimeMarkedError()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        var end = FeedSpan(detector, t, MinDuration + 1, defect: true);
        detector.Flush(end, ClosedBy.Error);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(end, defect.End!.Value);
        Assert.Equal(ClosedBy.Error, defect.ClosedBy);
    }

    [Fact]
    public void Tick_InputStopsDuringDefect_ClosesItAtItsLastInput()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        var end = FeedSpan(detector, t, MinDuration + 1, defect: true);
        Assert.Single(sink.Started);
        // media time goes on (other tracks) without this detector's input: a minute later it is over
        for (var now = end; now <= end + 60; now += Continuity.TickSeconds) detector.Tick(now);
        var defect = Assert.Single(WellFormed(sink, detector));
        Assert.InRange(defect.End!.Value, defect.Start, end + 1e-6);
        Assert.Null(defect.ClosedBy);
        detector.Flush(end + 60);
        Assert.Single(sink.Ended);
    }

    [Fact]
    public void Process_DefectThenNormal_ReportsOneDefectWithItsTimes()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        var defectEnd = FeedSpan(detector, t, MinDuration + 1, defect: true);
        FeedSpan(detector, defectEnd, 1, defect: false);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(1.0, defect.Start);
        AssertNear(defectEnd, defect.End!.Value);
        detector.Flush(defectEnd + 1);
        Assert.Single(sink.Ended); // flush after the end adds nothing
    }

    [Fact]
    public void Process_DefectShorterThanMinDuration_EmitsNothing()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        t = FeedSpan(detector, t, MinDuration / 2, defect: true);
        t = FeedSpan(detector, t, 1, defect: false);
        detector.Flush(t);
        Assert.Empty(sink.All);
    }

    [Fact]
    public void Process_TimestampsGoBackwardsDuringDefect_SplitsAtTheJumpWithoutNegativeLengths()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 10, 1, defect: false);
        var firstEnd = FeedSpan(detector, t, MinDuration + 0.5, defect: true);
        var secondEnd = FeedSpan(detector, 0, MinDuration + 0.5, defect: true); // the clock restarts at 0
        detector.Flush(secondEnd);
        var defects = WellFormed(sink, detector);
        Assert.Equal(2, defects.Count);
        AssertNear(11, defects[0].Start);
        AssertNear(firstEnd, defects[0].End!.Value);
        AssertNear(firstEnd, defects[1].Start); // media time continues across the jump
        AssertNear(secondEnd, defects[1].End!.Value);
    }

    [Fact]
    public void Process_TimestampsGoBackwardsAtDefectOnset_ReportsTheDefectAfterTheJump()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 10, 1, defect: false);
        t = FeedSpan(detector, 11, Unit, defect: true); // the defect starts on the last unit before the jump
        var end = FeedSpan(detector, 0, MinDuration + 0.5, defect: true);
        detector.Flush(end);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(t, defect.Start); // after the jump
        AssertNear(end, defect.End!.Value);
    }

    [Fact]
    public void Process_TimestampsJumpForwardAtDefectOnset_DefectDoesNotSpanTheGap()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        t = FeedSpan(detector, 1, Unit, defect: true); // then nothing arrives for 99 s
        var end = FeedSpan(detector, 100, MinDuration + 0.5, defect: true);
        detector.Flush(end);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(t, defect.Start); // after the jump, where media time continues
        AssertNear(end, defect.End!.Value);
    }

    [Fact]
    public void Process_HoleOfFiveSecondsAtDefectOnset_DefectDoesNotSpanTheHole()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        t = FeedSpan(detector, t, Unit, defect: true); // then 5 s of media are missing (no jump: a hole)
        var end = FeedSpan(detector, t + 5, MinDuration + 0.5, defect: true);
        detector.Flush(end);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertNear(t + 5, defect.Start);
        AssertNear(end, defect.End!.Value);
    }

    [Fact]
    public void Process_HalfDefectsOnBothSidesOfAJump_AreNotJoined()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 5, 1, defect: false);
        FeedSpan(detector, t, MinDuration * 0.6, defect: true);
        t = FeedSpan(detector, 0, MinDuration * 0.6, defect: true); // backwards
        t = FeedSpan(detector, t + 50, MinDuration * 0.6, defect: true); // forwards
        detector.Flush(t);
        Assert.Empty(WellFormed(sink, detector));
    }
}
