using System.Globalization;
using System.Text;
using Akka.Cluster;
using Vigil.Cluster.Orchestration;
using Vigil.Cluster.Store;
using Vigil.Service.Ops;

namespace Vigil.Cluster.Operations;

/// <summary>
/// The fleet's part of <c>/healthz</c> (this node's membership, the members, the unreachable ones; ready
/// only once this node is Up) and of <c>/metrics</c> (this node's pipelines, and the cluster view:
/// members, pipelines per node and role, unassigned groups, fleet-wide failovers and rebalances).
/// </summary>
public sealed class FleetOps(FleetNodeContext fleet, FleetStreams streams) : IOpsContributor
{
    public string Name => "cluster";

    public bool Check(out object details)
    {
        if (fleet.System is null)
        {
            details = new { node = fleet.NodeName, role = fleet.Role, status = "starting" };
            return false;
        }
        var cluster = Akka.Cluster.Cluster.Get(fleet.System);
        var state = cluster.State;
        var self = cluster.SelfMember;
        details = new
        {
            node = fleet.NodeName,
            role = fleet.Role,
            status = self.Status.ToString().ToLowerInvariant(),
            leader = state.Leader?.ToString(),
            pipelines = fleet.Local.Count,
            members = state.Members.Select(m => new
            {
                address = m.Address.ToString(),
                node = NodeOf(m),
                roles = m.Roles.Where(r => !r.StartsWith(FleetNodeContext.NodeRolePrefix, StringComparison.Ordinal) && !r.StartsWith("dc-", StringComparison.Ordinal)).ToList(),
                status = m.Status.ToString().ToLowerInvariant(),
                reachable = !state.Unreachable.Contains(m),
            }).ToList(),
        };
        return self.Status == MemberStatus.Up;
    }

    public void WriteMetrics(StringBuilder text)
    {
        Header(text, "vigil_fleet_local_pipelines", "gauge", "(stream, group) pipelines running on this node");
        Line(text, "vigil_fleet_local_pipelines", $"{{role=\"{Escape(fleet.Role)}\"}}", fleet.Local.Count);
        Header(text, "vigil_fleet_store_statements_total", "counter", "SQL statements this node sent to the shared store");
        Line(text, "vigil_fleet_store_statements_total", "", fleet.Store.Statements);
        if (fleet.System is null) return;
        var state = Akka.Cluster.Cluster.Get(fleet.System).State;
        Header(text, "vigil_fleet_members", "gauge", "Cluster members by status and role (cluster view)");
        foreach (var g in state.Members.SelectMany(m => Roles(m).Select(r => (Status: m.Status.ToString().ToLowerInvariant(), Role: r))).GroupBy(x => x))
            Line(text, "vigil_fleet_members", $"{{status=\"{g.Key.Status}\",role=\"{Escape(g.Key.Role)}\"}}", g.Count());
        Header(text, "vigil_fleet_unreachable_members", "gauge", "Members this node cannot reach");
        Line(text, "vigil_fleet_unreachable_members", "", state.Unreachable.Count);
        try
        {
            var rows = streams.LiveRows();
            Header(text, "vigil_fleet_pipelines", "gauge", "(stream, group) pipelines by node and role (cluster view)");
            foreach (var g in rows.GroupBy(r => (r.Node, r.Role)).OrderBy(g => g.Key))
                Line(text, "vigil_fleet_pipelines", $"{{node=\"{Escape(g.Key.Node)}\",role=\"{Escape(g.Key.Role)}\"}}", g.Count());
            var roles = streams.Roles();
            var up = fleet.UpRoles();
            Header(text, "vigil_fleet_unassigned", "gauge", "1 for each detector group of a stream that no node can run (cluster view)");
            foreach (var stream in fleet.Store.ListStreams())
                foreach (var group in FleetPlan.Unassigned(stream, roles, up))
                    Line(text, "vigil_fleet_unassigned", $"{{stream=\"{Escape(stream.Id)}\",group=\"{Escape(group)}\"}}", 1);
            var counters = fleet.Placements.Counters();
            Header(text, "vigil_fleet_failovers_total", "counter", "Pipelines restarted on another node after theirs died (fleet-wide)");
            Line(text, "vigil_fleet_failovers_total", "", counters.GetValueOrDefault(Placements.Failovers));
            Header(text, "vigil_fleet_rebalances_total", "counter", "Pipelines handed over between live nodes (fleet-wide)");
            Line(text, "vigil_fleet_rebalances_total", "", counters.GetValueOrDefault(Placements.Rebalances));
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            // the cluster view needs the store; this node's own figures above still go out
        }
    }

    private static IEnumerable<string> Roles(Member m) =>
        m.Roles.Where(r => !r.StartsWith(FleetNodeContext.NodeRolePrefix, StringComparison.Ordinal) && !r.StartsWith("dc-", StringComparison.Ordinal));

    private static string? NodeOf(Member m) =>
        m.Roles.FirstOrDefault(r => r.StartsWith(FleetNodeContext.NodeRolePrefix, StringComparison.Ordinal))?[FleetNodeContext.NodeRolePrefix.Length..];

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
