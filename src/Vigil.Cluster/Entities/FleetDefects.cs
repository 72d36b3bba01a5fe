using Vigil.Events;

namespace Vigil.Cluster.Entities;

/// <summary>The fleet's view of a defect's identity (team decision: kind, stream index, programme, channel, start).</summary>
public static class FleetDefects
{
    /// <summary>The identity as text: equal for both events of one defect.</summary>
    public static string Key(Defect d) => d.Key.ToString();

    /// <summary>Same identity but the start: the same defect if it continues an open one after a takeover.</summary>
    public static bool SameIdentityButStart(Defect a, Defect b) => a.Key with { Start = 0 } == b.Key with { Start = 0 };

    /// <summary>The defect marked as closed by the monitor because its node died or moved (<c>details.closed_by: "failover"</c>).</summary>
    public static Defect ClosedByFailover(Defect d) => d.ClosedByMonitor(ClosedBy.Failover);
}
