using System.Globalization;
using Vigil.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The contract every detector keeps, whatever it detects (after dotnet/runtime's ChannelTestBase): an empty
/// stream reports nothing; an interval still open at the end is closed by Flush, marked <c>closed_by</c>; a
/// defect is announced (defect_start, no end) before it ends; timestamps that jump backwards or forwards never
/// crash it, never give an event a negative length and never let one interval straddle the break; a defect
/// whose input stops closes on a tick; steady state allocates nothing; the same input gives the same events.
/// Units go through the real <see cref="Vigil.Pipeline.Timeline"/> as in the pipeline (<see cref="TimelineFeed"/>):
/// raw timestamps in, continuous media time and breaks out, a tick after each unit.
/// Each detector's test class inherits this (through its family: video, audio, bitstream events) and provides
/// the generator: how to feed it one unit of "defect" content (a black, frozen, blocky, damaged picture; a
/// silent, loud, clipped block; audio off sync; a lost packet) or of "normal" content. What a detector
/// cannot do by its nature is said by capability flags and timing allowances, not by skipping tests.
/// </summary>
public abstract class DetectorContractTests
{
    private readonly Dictionary<IDetector, TimelineFeed> _feeds = new(ReferenceEqualityComparer.Instance);

    /// <summary>The tracks a unit holds (a picture, a block, both); the first one's media time is the unit's.</summary>
    protected abstract MediaTrack[] Tracks { get; }

    /// <summary>Builds the detector under test with its default options.</summary>
    protected abstract IDetector Create(IDefectSink sink);

    /// <summary>Feeds one unit of <see cref="Unit"/> seconds at media time <paramref name="pts"/>; the content depends on <paramref name="pts"/> only.</summary>
    protected abstract void Feed(IDetector detector, double pts, bool defect);

    /// <summary>
    /// A feeder for the allocation test: feeds one unit at the given time from objects made up front and
    /// re-stamped, so that only the detector's own allocations count.
    /// </summary>
    protected abstract Action<double> Reusing(IDetector detector, bool defect);

    /// <summary>Length of one fed unit in seconds (a video frame, an audio block).</summary>
    protected abstract double Unit { get; }

    /// <summary>The shortest defect the detector reports (0: every occurrence is one).</summary>
    protected abstract double MinDuration { get; }

    /// <summary>Capability: defects shorter than <see cref="MinDuration"/> are not reported.</summary>
    protected virtual bool HasMinimumDuration => MinDuration > 0;

    /// <summary>
    /// Capability: a timestamp jump (a splice, a restart) ends an open defect. Not for a detector to which a
    /// jump is itself evidence of its defect (bitstream incidents, damage propagating through predicted frames).
    /// </summary>
    protected virtual bool SplitsAtJumps => true;

    /// <summary>Capability: a hole in the media (5 s missing) ends an open defect. Not for damage, which propagates across it.</summary>
    protected virtual bool SplitsAtHoles => true;

    /// <summary>
    /// Allowance: a detector that places a change halfway between the evidence either side of it may put the
    /// start of a defect that follows a hole inside the hole (no earlier than the media before it ended).
    /// </summary>
    protected virtual bool StartMayFallInHole => false;

    /// <summary>Seconds of normal content before a defect (a detector that measures over a window needs it full).</summary>
    protected virtual double Lead => 1;

    /// <summary>Seconds of defect content that surely make one defect.</summary>
    protected virtual double SurelyDetected => MinDuration + 1;

    /// <summary>Seconds of normal content after a defect by which the detector has surely ended it.</summary>
    protected virtual double Settle => 1;

    /// <summary>How far a reported start may lie from where the defect content began (a window's reach).</summary>
    protected virtual double OnsetSlack => Unit;

    /// <summary>How far a reported end may lie from where the defect content stopped.</summary>
    protected virtual double EndSlack => Unit;

    /// <summary>
    /// Seconds after a format change (resolution, channel layout, sample rate) before the detector judges
    /// again: 0 for one that carries on at once; a detector measuring over a window that restarts needs it full.
    /// </summary>
    protected virtual double FormatChangeRecovery => 0;

    /// <summary>
    /// Feeds units stamped from <paramref name="from"/> (raw time) for <paramref name="seconds"/> through the
    /// timeline, ticking after each; returns the media time where the first unit began and the last ended.
    /// </summary>
    protected (double Start, double End) Span(IDetector detector, double from, double seconds, bool defect)
    {
        if (!_feeds.TryGetValue(detector, out var feed)) _feeds[detector] = feed = new TimelineFeed(detector);
        var count = (int)Math.Round(seconds / Unit);
        double start = double.NaN, end = double.NaN;
        for (var i = 0; i < count; i++)
        {
            var pts = feed.Map(Tracks[0], from + i * Unit, Unit);
            foreach (var other in Tracks.Skip(1))
                Assert.Equal(pts, feed.Map(other, from + i * Unit, Unit), 9); // the tracks share the timeline's epochs
            Feed(detector, pts, defect);
            if (i == 0) start = pts;
            end = pts + Unit;
            detector.Tick(end);
        }
        return (start, end);
    }

    /// <summary>As <see cref="Span"/>, returning where the last unit ended (media time).</summary>
    protected double FeedSpan(IDetector detector, double from, double seconds, bool defect) => Span(detector, from, seconds, defect).End;

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
        // every defect_start is followed by exactly one defect with the same start, in order
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

    /// <summary>Asserts <paramref name="actual"/> lies within <paramref name="slack"/> (and a unit) of <paramref name="expected"/>.</summary>
    protected void AssertNear(double expected, double actual, double slack, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Max(slack, Unit) + 1e-6, $"{what}: expected {expected:0.###} ± {Math.Max(slack, Unit):0.###}, got {actual:0.###}");

    /// <summary>The defect's times against the content fed: it began at <paramref name="from"/> and stopped at <paramref name="to"/>.</summary>
    protected void AssertSpans(Defect defect, double from, double to)
    {
        AssertNear(from, defect.Start, OnsetSlack, "start");
        AssertNear(to, defect.End!.Value, EndSlack, "end");
    }

    /// <summary>One event as exact text (every number round-trips), for comparing two runs.</summary>
    private static string Exact((bool Started, Defect Defect) e)
    {
        var d = e.Defect;
        var details = d.Details is null ? "" : string.Join(",", d.Details.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value:R}"));
        var text = d.TextDetails is null ? "" : string.Join(",", d.TextDetails.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{(e.Started ? "start" : "end")} {d.Kind} {d.Start:R} {d.End:R} {d.Confidence:R} {details} {text} {d.Stream} {d.Program}");
    }

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
    public void Process_NormalContentOnly_EmitsNothing()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var end = FeedSpan(detector, 0, Lead + SurelyDetected + Settle, defect: false);
        detector.Flush(end);
        Assert.Empty(sink.All);
    }

    [Fact]
    public void Flush_DefectOpenAtEnd_ClosesItAtTheEndMarkedEndOfInput()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var end = FeedSpan(detector, t, SurelyDetected, defect: true);
        Assert.Single(sink.Started);   // announced once it has lasted the minimum duration
        Assert.Empty(sink.Ended);      // but not over yet
        detector.Flush(end);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertSpans(defect, Lead, end);
        Assert.Equal(ClosedBy.EndOfInput, defect.ClosedBy); // the monitor closed it, not the media
    }

    [Fact]
    public void Flush_InputFailedDuringDefect_ClosesItAtTheLastMediaTimeMarkedError()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var end = FeedSpan(detector, t, SurelyDetected, defect: true);
        detector.Flush(end, ClosedBy.Error);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertSpans(defect, Lead, end);
        Assert.Equal(ClosedBy.Error, defect.ClosedBy);
    }

    [Fact]
    public void Tick_InputStopsDuringDefect_ClosesItAtItsLastInput()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var end = FeedSpan(detector, t, SurelyDetected, defect: true);
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
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var defectEnd = FeedSpan(detector, t, SurelyDetected, defect: true);
        var end = FeedSpan(detector, defectEnd, Settle, defect: false);
        var defect = Assert.Single(WellFormed(sink, detector));
        AssertSpans(defect, Lead, defectEnd);
        Assert.Null(defect.ClosedBy); // the media ended it
        detector.Flush(end);
        Assert.Single(sink.Ended); // flush after the end adds nothing
    }

    [Fact]
    public void Process_DefectShorterThanMinDuration_EmitsNothing()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        t = FeedSpan(detector, t, HasMinimumDuration ? MinDuration / 2 : Unit, defect: true);
        t = FeedSpan(detector, t, Settle, defect: false);
        detector.Flush(t);
        if (HasMinimumDuration) Assert.Empty(sink.All);
        else Assert.Single(WellFormed(sink, detector)); // without a minimum, one unit of defect is a defect
    }

    [Fact]
    public void Process_TwoDefectsApart_ReportsTwo()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var firstEnd = FeedSpan(detector, t, SurelyDetected, defect: true);
        var second = FeedSpan(detector, firstEnd, Settle + Lead, defect: false);
        var end = FeedSpan(detector, second, SurelyDetected, defect: true);
        detector.Flush(end);
        var defects = WellFormed(sink, detector);
        Assert.Equal(2, defects.Count);
        AssertSpans(defects[0], Lead, firstEnd);
        AssertSpans(defects[1], second, end);
    }

    /// <summary>The raw times of the jump tests: a clock far from 0 that restarts at 0, or leaps 100 s on.</summary>
    private const double Origin = 1000;

    [Fact]
    public void Process_TimestampsGoBackwardsDuringDefect_SplitsAtTheJumpWithoutNegativeLengths()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var lead = Span(detector, Origin, Lead, defect: false);
        var first = Span(detector, lead.End - lead.Start + Origin, SurelyDetected, defect: true);
        var second = Span(detector, 0, SurelyDetected, defect: true); // the clock restarts at 0
        AssertNear(first.End, second.Start, 0, "media time after the jump"); // media time continues across it
        detector.Flush(second.End);
        var defects = WellFormed(sink, detector);
        if (!SplitsAtJumps)
        {
            AssertSpans(Assert.Single(defects), first.Start, second.End);
            return;
        }
        Assert.Equal(2, defects.Count);
        AssertSpans(defects[0], first.Start, first.End);
        Assert.True(defects[0].End <= first.End + 1e-6, $"the first defect runs past the jump: {defects[0].End}");
        AssertSpans(defects[1], second.Start, second.End);
    }

    /// <summary>One unit of defect, then a break (raw time jumping to <paramref name="resume"/>), then the defect goes on.</summary>
    private void AssertDefectAtBreakOnset(double resume, bool hole)
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        var onset = Span(detector, t, Unit, defect: true); // the defect starts on the last unit before the break
        var after = Span(detector, resume, SurelyDetected, defect: true);
        if (hole) AssertNear(onset.End + (resume - t - Unit), after.Start, 0, "media time after the hole"); // media is missing
        else AssertNear(onset.End, after.Start, 0, "media time after the jump");                           // media time continues
        detector.Flush(after.End);
        var defects = WellFormed(sink, detector);
        if (!(hole ? SplitsAtHoles : SplitsAtJumps))
        {
            AssertSpans(Assert.Single(defects), onset.Start, after.End);
            return;
        }
        if (HasMinimumDuration) Assert.Single(defects);
        if (hole && StartMayFallInHole)
        {
            Assert.InRange(defects[^1].Start, onset.End - 1e-6, after.Start + OnsetSlack);
            AssertNear(after.End, defects[^1].End!.Value, EndSlack, "end");
        }
        else AssertSpans(defects[^1], after.Start, after.End);
        Assert.All(defects.SkipLast(1), d => Assert.True(d.End <= onset.End + 1e-6, $"{d.Start}→{d.End} straddles the break"));
    }

    [Fact]
    public void Process_TimestampsGoBackwardsAtDefectOnset_ReportsTheDefectAfterTheJump() => AssertDefectAtBreakOnset(resume: 0, hole: false);

    [Fact]
    public void Process_TimestampsJumpForwardAtDefectOnset_DefectDoesNotSpanTheJump() => AssertDefectAtBreakOnset(resume: Lead + 100, hole: false);

    [Fact]
    public void Process_HoleOfFiveSecondsAtDefectOnset_DefectDoesNotSpanTheHole() => AssertDefectAtBreakOnset(resume: Lead + Unit + 5, hole: true);

    [Fact]
    public void Process_HalfDefectsOnBothSidesOfAJump_AreNotJoined()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var half = HasMinimumDuration ? MinDuration * 0.6 : SurelyDetected;
        var t = FeedSpan(detector, Origin, Lead, defect: false);
        var a = Span(detector, Origin + Lead, half, defect: true);
        var b = Span(detector, 0, half, defect: true);            // backwards
        var c = Span(detector, half + 100, half, defect: true);   // forwards
        detector.Flush(c.End);
        var defects = WellFormed(sink, detector);
        if (!SplitsAtJumps)
        {
            AssertSpans(Assert.Single(defects), a.Start, c.End); // one defect, which the jumps themselves are evidence of
            return;
        }
        if (HasMinimumDuration)
        {
            Assert.Empty(defects);
            return;
        }
        // each stretch is its own defect: none runs across either jump
        (double Start, double End)[] stretches = [a, b, c];
        Assert.All(defects, d => Assert.True(
            stretches.Any(s => d.Start >= s.Start - OnsetSlack - 1e-6 && d.End <= s.End + 1e-6), $"{d.Start}→{d.End} runs across a jump"));
        Assert.All(stretches, s => Assert.Contains(defects, d => d.Start >= s.Start - OnsetSlack - 1e-6 && d.End <= s.End + 1e-6));
    }

    /// <summary>How many units the allocation test feeds in each phase.</summary>
    private const int Steady = 500;

    [Fact]
    public void Process_SteadyState_AllocatesNothingPerUnit()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var normal = Reusing(detector, defect: false);
        var defect = Reusing(detector, defect: true);
        var t = 0.0;
        void Run(Action<double> feed, int units)
        {
            for (var i = 0; i < units; i++, t += Unit)
            {
                feed(t);
                detector.Tick(t + Unit);
            }
        }
        // least of three runs: a real per-unit allocation shows in every run, a one-off (a late JIT) does not
        long During(Action<double> feed)
        {
            var least = long.MaxValue;
            for (var run = 0; run < 3; run++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                Run(feed, Steady);
                least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            return least;
        }

        Run(normal, (int)Math.Ceiling((Lead + SurelyDetected) / Unit)); // warm up: buffers sized, code compiled
        var whileNormal = During(normal);
        Run(defect, (int)Math.Ceiling(SurelyDetected / Unit));          // the defect starts (its event allocates, once)
        Assert.Single(sink.Started);
        var whileDefect = During(defect);
        // one object per unit would be at least 24 bytes a unit
        Assert.True(whileNormal < Steady, $"{whileNormal} bytes over {Steady} units of normal content");
        Assert.True(whileDefect < Steady, $"{whileDefect} bytes over {Steady} units of an ongoing defect");
    }

    /// <summary>A run touching every path: defects, normal content, a jump back, a jump forward, a flush.</summary>
    private IReadOnlyList<string> Script()
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 500, Lead, defect: false);
        t = FeedSpan(detector, t, SurelyDetected, defect: true);
        t = FeedSpan(detector, t, Settle + Lead, defect: false);
        t = FeedSpan(detector, t, SurelyDetected / 2, defect: true);
        t = FeedSpan(detector, 0, Lead, defect: false);
        t = FeedSpan(detector, t, SurelyDetected, defect: true);
        t = FeedSpan(detector, t + 30, SurelyDetected, defect: true);
        detector.Flush(t);
        WellFormed(sink, detector);
        return sink.All.Select(Exact).ToList();
    }

    [Fact]
    public void Process_SameInputTwice_SameEvents()
    {
        var first = Script();
        Assert.True(first.Count >= 2, $"the script made {first.Count} events");
        Assert.Equal(first, Script());
    }

    /// <summary>
    /// For the family's format-change tests: a defect already under way when the format changes (by
    /// <paramref name="change"/>) goes on being detected: it ends at the end, and starts no later than the
    /// change (or than the <see cref="FormatChangeRecovery"/> after it).
    /// </summary>
    protected void AssertFormatChangeDuringDefectKeepsDetecting(Action change)
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        t = FeedSpan(detector, t, Math.Min(0.5, SurelyDetected / 2), defect: true);
        change();
        var changed = t;
        var end = FeedSpan(detector, t, FormatChangeRecovery + SurelyDetected, defect: true);
        detector.Flush(end);
        var defects = WellFormed(sink, detector);
        Assert.NotEmpty(defects);
        var last = defects[^1];
        Assert.InRange(last.Start, Lead - OnsetSlack - 1e-6, changed + FormatChangeRecovery + OnsetSlack + 1e-6);
        AssertNear(end, last.End!.Value, EndSlack, "end");
    }

    /// <summary>For the family's format-change tests: normal content across format changes reports nothing.</summary>
    protected void AssertFormatChangesWithNormalContentEmitNothing(Action first, Action second)
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, Lead, defect: false);
        first();
        t = FeedSpan(detector, t, 1, defect: false);
        second();
        t = FeedSpan(detector, t, SurelyDetected + Settle, defect: false);
        detector.Flush(t);
        Assert.Empty(sink.All);
    }
}
