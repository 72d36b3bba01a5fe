using Vigil.Detectors;
using Vigil.Detectors.Stream;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// <c>stream.discontinuity</c> from the bitstream events the converter and the pipeline raise: which
/// events make an incident, how they merge, what the details count, and when an incident closes —
/// on media time passing (a tick), not at the next event, however late that comes.
/// </summary>
public sealed class DiscontinuityDetectorTests
{
    private readonly RecordingSink _sink = new();
    private readonly DiscontinuityDetector _detector;

    public DiscontinuityDetectorTests() => _detector = new DiscontinuityDetector(new DiscontinuityOptions(), _sink);

    private void Event(MediaEventKind kind, double pts, double value = 0) => _detector.Process(new MediaEvent(kind, 0, pts, value));

    [Fact]
    public void Process_OneLostPacket_IsAnIncidentOfOneFrame()
    {
        Event(MediaEventKind.PacketCorrupt, 5.0);
        Assert.Null(Assert.Single(_sink.Started).End); // announced at once
        _detector.Flush(10);
        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(5.0, defect.Start, 9);
        Assert.Equal(5.04, defect.End!.Value, 9); // a point event still gets a visible extent
        Assert.Equal(1, defect.Details!["corrupt_packets"]);
        Assert.Equal(DiscontinuityDetector.KindName, defect.Kind);
    }

    [Fact]
    public void Process_BurstWithinMerge_IsOneIncidentWithItsCounts()
    {
        for (var i = 0; i < 20; i++) Event(MediaEventKind.PacketCorrupt, 3.0 + i * 0.25); // 3.0 .. 7.75, 0.25 s apart
        Event(MediaEventKind.TimestampJump, 6.0, -95443.7);
        Event(MediaEventKind.TimestampJump, 6.5, 2.0);
        Event(MediaEventKind.FrameGap, 7.0, 0.4);
        _detector.Flush(20);
        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(3.0, defect.Start, 9);
        Assert.Equal(7.75, defect.End!.Value, 9);
        Assert.Equal(20, defect.Details!["corrupt_packets"]);
        Assert.Equal(-95443.7, defect.Details["timestamp_jump_s"], 3); // the largest jump
        Assert.Equal(0.4, defect.Details["missing_video_s"], 9);
    }

    [Fact]
    public void Process_EventsFurtherApartThanMerge_AreSeparateIncidents()
    {
        var merge = new DiscontinuityOptions().Merge;
        Event(MediaEventKind.PacketCorrupt, 2.0);
        Event(MediaEventKind.PacketCorrupt, 2.0 + merge + 0.1);
        _detector.Flush(10);
        Assert.Equal(2, _sink.Ended.Count);
        Assert.Equal(2, _sink.Started.Count);
    }

    [Fact]
    public void Process_FrameGap_SpansTheMissingPicturesUnlessShorterThanMinGap()
    {
        var minGap = new DiscontinuityOptions().MinGap;
        Event(MediaEventKind.FrameGap, 1.0, minGap / 2);   // jitter: ignored
        Event(MediaEventKind.DecodeError, 1.5);            // the corruption detector's evidence, not this one's
        Assert.Empty(_sink.All);
        Event(MediaEventKind.FrameGap, 4.0, 2.5);
        _detector.Flush(10);
        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(4.0, defect.Start, 9);
        Assert.Equal(6.5, defect.End!.Value, 9);
        Assert.Equal(2.5, defect.Details!["missing_video_s"], 9);
    }

    [Fact]
    public void Process_CodecChange_IsReported()
    {
        Event(MediaEventKind.CodecChange, 8.0);
        _detector.Flush(9);
        Assert.Equal(1, Assert.Single(_sink.Ended).Details!["codec_change"]);
    }

    [Fact]
    public void Tick_MediaGoesOnAfterABurst_ClosesWhenMergeHasPassedNotAtTheNextEvent()
    {
        // issue 12.3: 5 s of garbage, then clean media for minutes; the next event comes 150 s later
        for (var i = 0; i <= 50; i++) Event(MediaEventKind.PacketCorrupt, 10 + i / 10.0); // 10.0 .. 15.0
        var merge = new DiscontinuityOptions().Merge;
        double closedAt = double.NaN;
        for (var k = 0; k < 1500 && double.IsNaN(closedAt); k++)
        {
            var now = 15 + k * Continuity.TickSeconds;
            _detector.Tick(now);
            if (_sink.Ended.Count > 0) closedAt = now;
        }
        var defect = Assert.Single(_sink.Ended);
        Assert.InRange(closedAt, 15.0 + merge, 15.0 + merge + 2 * Continuity.TickSeconds);
        Assert.Equal(15.0, defect.End!.Value, 6);
        Assert.Null(defect.ClosedBy); // its own rule closed it, not the end of input
        Event(MediaEventKind.PacketCorrupt, 165);
        Assert.Equal(2, _sink.Started.Count); // a new incident
    }

    [Fact]
    public void Tick_WithinMerge_KeepsTheIncidentOpenForEventsStillToCome()
    {
        Event(MediaEventKind.PacketCorrupt, 10.0);
        _detector.Tick(10.5);
        Event(MediaEventKind.PacketCorrupt, 10.9);
        _detector.Flush(12);
        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(2, defect.Details!["corrupt_packets"]);
    }

    [Fact]
    public void Flush_IncidentOpen_ClosedByTheMonitor()
    {
        Event(MediaEventKind.PacketCorrupt, 10.0);
        _detector.Flush(10.2, ClosedBy.Error);
        Assert.Equal(ClosedBy.Error, Assert.Single(_sink.Ended).ClosedBy);
        _detector.Flush(10.2, ClosedBy.Error);
        Assert.Single(_sink.Ended);
    }
}
