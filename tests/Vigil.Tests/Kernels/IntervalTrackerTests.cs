using Vigil.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Kernels;

/// <summary>
/// The shared start/end state machine, driven unit by unit. Scenario per test, units of 0.1 s:
/// <c>#</c> condition holds, <c>.</c> it does not; times are the unit boundaries.
/// </summary>
public sealed class IntervalTrackerTests
{
    private const double U = 0.1;

    private static IntervalTracker Tracker(RecordingSink sink, double minDuration = 1.0, double bridge = 0) =>
        new("test.kind", minDuration, sink, bridge, stream: 3);

    /// <summary>Feeds a scenario string from <paramref name="from"/>; returns the time after the last unit.</summary>
    private static double Run(IntervalTracker tracker, string scenario, double from = 0)
    {
        for (var i = 0; i < scenario.Length; i++)
            tracker.Update(scenario[i] == '#', from + i * U, from + (i + 1) * U);
        return from + scenario.Length * U;
    }

    [Fact]
    public void Update_ConditionShorterThanMinDuration_EmitsNothing()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        Run(tracker, "..#########.."); // 0.9 s
        tracker.Close();
        Assert.Empty(sink.All);
    }

    [Fact]
    public void Update_ConditionReachesMinDuration_StartsOnThatUnitThenEnds()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        Run(tracker, "..#########");   // 0.9 s: not yet
        Assert.Empty(sink.All);
        Run(tracker, "#", 1.1);        // 1.0 s: defect_start now, with no end
        var started = Assert.Single(sink.Started);
        Assert.Equal(0.2, started.Start, 9);
        Assert.Null(started.End);
        Assert.Empty(sink.Ended);
        Run(tracker, "###.", 1.2);     // ends where the first "." begins
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0.2, ended.Start, 9);
        Assert.Equal(1.5, ended.End!.Value, 9);
        Assert.Equal("test.kind", ended.Kind);
        Assert.Equal(3, ended.Stream);
        Assert.Equal([true, false], sink.All.Select(e => e.Started));
    }

    [Fact]
    public void Close_IntervalOpenAtEnd_EndsItAtLastUnitEnd()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        var end = Run(tracker, "..###############");
        Assert.True(tracker.IsOpen);
        Assert.True(tracker.IsReported);
        tracker.Close();
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0.2, ended.Start, 9);
        Assert.Equal(end, ended.End!.Value, 9);
        Assert.False(tracker.IsOpen);
        tracker.Close(); // idempotent
        Assert.Single(sink.Ended);
    }

    [Fact]
    public void Close_WithExplicitTime_EndsThereButNeverBeforeTheStart()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink, minDuration: 0.5);
        Run(tracker, "######", from: 10);
        tracker.Close(at: 3); // a bogus time before the start
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(10, ended.Start, 9);
        Assert.Equal(10, ended.End!.Value, 9);
    }

    [Fact]
    public void Break_ClockRestartsDuringInterval_EndsItAtLastGoodTime()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        var jumpAt = Run(tracker, "###############", from: 5); // 5.0 .. 6.5, reported
        tracker.Break();                                      // the timeline broke here
        Run(tracker, "###", from: 1);                         // clock jumped back to 1.0
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(5, ended.Start, 9);
        Assert.Equal(jumpAt, ended.End!.Value, 9);
        Assert.Null(ended.ClosedBy); // the media closed it, not the monitor
        Assert.True(tracker.IsOpen); // a new interval began after the break
        Run(tracker, "#######.", from: 1.3);
        Assert.Equal(2, sink.Ended.Count);
        Assert.Equal(1.0, sink.Ended[1].Start, 9);
        Assert.Equal(2.0, sink.Ended[1].End!.Value, 9);
    }

    [Fact]
    public void Break_HalvesShorterThanMinDuration_AreNotJoined()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        Run(tracker, "########");                 // 0.0 .. 0.8
        tracker.Break();
        Run(tracker, "########", from: 0.8 + 1.5); // after a 1.5 s hole: not joined
        tracker.Close();
        Assert.Empty(sink.All);
    }

    [Fact]
    public void Update_HoleTheTimelineDidNotBreakAt_KeepsInterval()
    {
        // whether a hole breaks an interval is the timeline's call (Continuity), not the tracker's
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        Run(tracker, "######");             // 0.0 .. 0.6
        Run(tracker, "######", from: 0.9);  // a 0.3 s hole (dropped frames) does not split it
        tracker.Close();
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0, ended.Start, 9);
        Assert.Equal(1.5, ended.End!.Value, 9);
    }

    [Fact]
    public void Tick_InputMissingLongerThanMaxHole_EndsAtLastUnit()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        var last = Run(tracker, "###############"); // 0.0 .. 1.5, reported
        tracker.Tick(last + Continuity.MaxHole);     // not yet: the hole is no longer than the tolerance
        Assert.Empty(sink.Ended);
        tracker.Tick(last + Continuity.MaxHole + 0.1);
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(last, ended.End!.Value, 9);
        Assert.False(tracker.IsOpen);
    }

    [Fact]
    public void Tick_WhileUnitsKeepComing_ChangesNothing()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        for (var i = 0; i < 30; i++)
        {
            tracker.Update(true, i * U, (i + 1) * U);
            tracker.Tick((i + 1) * U);
        }
        Assert.Empty(sink.Ended);
        Assert.True(tracker.IsReported);
    }

    [Fact]
    public void Close_ByTheMonitor_CarriesClosedBy()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink);
        var end = Run(tracker, "###############");
        tracker.Close(closedBy: ClosedBy.Error);
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(ClosedBy.Error, ended.ClosedBy);
        Assert.Equal(end, ended.End!.Value, 9);
        Assert.Null(Assert.Single(sink.Started).ClosedBy);
    }

    [Fact]
    public void Update_GapNoLongerThanBridge_DoesNotSplit()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink, bridge: 0.25);
        Run(tracker, "########..########....");
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0, ended.Start, 9);
        Assert.Equal(1.8, ended.End!.Value, 9);
        Assert.Single(sink.Started);
    }

    [Fact]
    public void Update_GapLongerThanBridge_EndsAtGapStart()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink, bridge: 0.25);
        Run(tracker, "############...########");
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0, ended.Start, 9);
        Assert.Equal(1.2, ended.End!.Value, 9); // where the gap began, not where it was confirmed
    }

    [Fact]
    public void Update_Confidence_IsTheMeanOverTheInterval()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink, minDuration: 0.2);
        tracker.Update(true, 0, 0.1, confidence: 1.0);
        tracker.Update(true, 0.1, 0.2, confidence: 0.5);
        tracker.Update(true, 0.2, 0.3, confidence: 0.6);
        tracker.Update(false, 0.3, 0.4);
        Assert.Equal(0.75, sink.Started.Single().Confidence, 9);
        Assert.Equal(0.7, sink.Ended.Single().Confidence, 9);
    }

    [Fact]
    public void Update_Details_AreReadWhenEachEventIsSent()
    {
        var sink = new RecordingSink();
        var value = 1.0;
        var tracker = Tracker(sink, minDuration: 0.2);
        tracker.Details = () => new Dictionary<string, double> { ["x"] = value };
        Run(tracker, "##");
        value = 2.0;
        Run(tracker, ".", 0.2);
        Assert.Equal(1.0, sink.Started.Single().Details!["x"]);
        Assert.Equal(2.0, sink.Ended.Single().Details!["x"]);
    }

    [Fact]
    public void Update_ZeroMinDuration_ReportsASingleUnit()
    {
        var sink = new RecordingSink();
        var tracker = Tracker(sink, minDuration: 0);
        Run(tracker, ".#.");
        var ended = Assert.Single(sink.Ended);
        Assert.Equal(0.1, ended.Start, 9);
        Assert.Equal(0.2, ended.End!.Value, 9);
    }
}
