using Vigil.Events;
using Vigil.Media;
using Vigil.Transport;

namespace Vigil.Detectors.Transport;

/// <summary>
/// <c>ts.&lt;indicator&gt;</c> (EVENTS.md): one ETSI TR 101 290 priority 1 or 2 indicator, per PID. The
/// transport analyser decides when the indicator fails and when it has passed again for its interval;
/// this turns each raise and clear into a defect with <c>details.pid</c> (absent for sync, which has no
/// PID) and <c>details.count</c> (failures within the defect). A failure at one instant (a continuity
/// error) lasts one millisecond, the contract's resolution. A finding on a programme of a multiplex carries its
/// <c>program</c>; one on the multiplex as a whole (sync, PAT) or on an input decoded as one carries none.
/// </summary>
public sealed class TransportIndicatorDetector(Indicator indicator, IDefectSink sink) : ITransportDetector
{
    /// <summary>A point failure's extent.</summary>
    private const double PointExtent = 0.001;

    private readonly Dictionary<(int Pid, int Program), (double Start, long Count)> _open = [];  // by (PID, decoded programme)

    public Indicator Indicator => indicator;

    public string Kind { get; } = indicator.Kind();

    public void Process(in TransportFinding finding)
    {
        var e = finding.Event;
        if (e.Indicator != indicator) return;
        var key = (e.Pid, finding.Program);
        switch (e.Kind)
        {
            case TransportEventKind.Raised:
                if (_open.ContainsKey(key)) return;
                _open[key] = (finding.Pts, 0);
                sink.DefectStarted(Make(e.Pid, finding.Program, finding.Pts, null, e.Count));
                break;
            case TransportEventKind.Cleared when _open.Remove(key, out var open):
                sink.DefectEnded(Make(e.Pid, finding.Program, open.Start, Math.Max(finding.Pts, open.Start + PointExtent), e.Count));
                break;
            case TransportEventKind.StillFailing when _open.TryGetValue(key, out var open):
                _open[key] = (open.Start, e.Count);
                break;
        }
    }

    /// <summary>Nothing to do: the analyser clears an indicator once it has passed for its interval, in transport time.</summary>
    public void Tick(double now)
    {
    }

    /// <summary>A break in the media timeline does not end a transport indicator: the transport has its own clock.</summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
    }

    /// <summary>End of input: indicators still failing end with it, closed by the monitor.</summary>
    public void Flush(double endOfInput, string closedBy)
    {
        foreach (var ((pid, program), (start, count)) in _open.OrderBy(o => o.Value.Start))
            sink.DefectEnded(Make(pid, program, start, Math.Max(endOfInput, start + PointExtent), Math.Max(count, 1)).ClosedByMonitor(closedBy));
        _open.Clear();
    }

    private Defect Make(int pid, int program, double start, double? end, long count)
    {
        var details = new Dictionary<string, double>();
        if (pid >= 0) details["pid"] = pid;
        details["count"] = count;
        return new Defect(Kind, start, end, 1.0, details, Program: program != 0 ? program : null);
    }
}
