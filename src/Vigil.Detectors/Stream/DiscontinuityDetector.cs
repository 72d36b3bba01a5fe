using Vigil.Media;

namespace Vigil.Detectors.Stream;

/// <summary>
/// <c>stream.discontinuity</c>: timestamps jumped (splice, encoder restart, clock wrap), packets were
/// lost (MPEG-TS: the transport analyser's continuity counters, <c>details.lost_packets</c>; other
/// containers: the demuxer's corrupt flags, <c>details.corrupt_packets</c>) or video frames are missing
/// (a PTS gap), or the codec changed.
/// Events within <see cref="DiscontinuityOptions.Merge"/> seconds form one defect, with counts in its details.
/// </summary>
public sealed class DiscontinuityDetector(DiscontinuityOptions options, IDefectSink sink) : IMediaEventDetector
{
    public const string KindName = "stream.discontinuity";

    private bool _open;
    private double _start, _end, _lastTime;
    private int _corruptPackets, _jumps, _gaps, _codecChanges;
    private long _lostPackets;
    private double _largestJump, _missing;

    public string Kind => KindName;

    public void Process(MediaEvent e)
    {
        var time = double.IsNaN(e.Pts) ? _lastTime : e.Pts;
        _lastTime = time;
        var end = time;
        switch (e.Kind)
        {
            case MediaEventKind.PacketCorrupt: break;
            case MediaEventKind.PacketsLost: break;
            case MediaEventKind.TimestampJump: break;
            case MediaEventKind.CodecChange: break;
            case MediaEventKind.FrameGap when e.Value >= options.MinGap: end = time + e.Value; break;
            default: return; // decode errors are the corruption detector's evidence; short gaps are jitter
        }
        if (_open && time - _end > options.Merge) Close();
        if (!_open)
        {
            // a new incident starts here
            _open = true;
            _start = time;
            _end = time;
            _corruptPackets = _jumps = _gaps = _codecChanges = 0;
            _lostPackets = 0;
            _largestJump = _missing = 0;
            sink.DefectStarted(Make(null));
        }
        _end = Math.Max(_end, end);
        switch (e.Kind)
        {
            case MediaEventKind.PacketCorrupt: _corruptPackets++; break;
            case MediaEventKind.PacketsLost: _lostPackets += (long)e.Value; break;
            case MediaEventKind.TimestampJump: _jumps++; if (Math.Abs(e.Value) > Math.Abs(_largestJump)) _largestJump = e.Value; break;
            case MediaEventKind.CodecChange: _codecChanges++; break;
            case MediaEventKind.FrameGap: _gaps++; _missing += e.Value; break;
        }
    }

    /// <summary>An incident is over once media time has gone <see cref="DiscontinuityOptions.Merge"/> past its last event.</summary>
    public void Tick(double now)
    {
        if (_open && now - _end > options.Merge) Close();
    }

    /// <summary>Breaks reach this detector as bitstream events (timestamp jumps, frame gaps, codec changes), which it reports.</summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
    }

    public void Flush(double endOfInput, string closedBy) => Close(closedBy);

    private void Close(string? closedBy = null)
    {
        if (!_open) return;
        _open = false;
        // a point event still gets a visible extent: one frame at 25 fps
        var defect = Make(Math.Max(_end, _start + 0.04));
        sink.DefectEnded(closedBy is null ? defect : defect.ClosedByMonitor(closedBy));
    }

    private Defect Make(double? end)
    {
        var details = new Dictionary<string, double>();
        if (_lostPackets > 0) details["lost_packets"] = _lostPackets;
        if (_corruptPackets > 0) details["corrupt_packets"] = _corruptPackets;
        if (_jumps > 0) details["timestamp_jump_s"] = Math.Round(_largestJump, 3);
        if (_gaps > 0) details["missing_video_s"] = Math.Round(_missing, 3);
        if (_codecChanges > 0) details["codec_change"] = _codecChanges; // EVENTS.md: how many in this incident
        return new Defect(KindName, _start, end, 1.0, details.Count > 0 ? details : null);
    }
}
