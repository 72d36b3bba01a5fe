using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Vigil.Cluster.Entities;
using Vigil.Cluster.Store;

namespace Vigil.Cluster;

/// <summary>What the fleet's actors on this node share: options, the store, the local pipelines, and the cluster itself.</summary>
public sealed class FleetNodeContext(FleetOptions options, string role, PostgresStore store, Placements placements, LocalGroups local,
    IGroupRunnerFactory runners)
{
    /// <summary>Cluster roles that name a node (<c>node:NAME</c>), beside the detector-subset role.</summary>
    public const string NodeRolePrefix = "node:";

    public FleetOptions Options { get; } = options;

    /// <summary>This node's detector subset in canonical form.</summary>
    public string Role { get; } = role;

    public string NodeName => Options.NodeName;

    public PostgresStore Store { get; } = store;

    public Placements Placements { get; } = placements;

    public LocalGroups Local { get; } = local;

    public IGroupRunnerFactory Runners { get; } = runners;

    /// <summary>Set once the actor system runs.</summary>
    public ActorSystem? System { get; internal set; }

    /// <summary>The shard region type of a role (one region per detector subset).</summary>
    public static string TypeName(string role) => "group-" + role;

    /// <summary>Roles with at least one member that is Up: the groups they run can be placed.</summary>
    public ISet<string> UpRoles()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (System is null) return set;
        var state = Akka.Cluster.Cluster.Get(System).State;
        foreach (var m in state.Members.Where(m => m.Status == MemberStatus.Up && !state.Unreachable.Contains(m)))
            foreach (var r in m.Roles.Where(r => !r.StartsWith(NodeRolePrefix, StringComparison.Ordinal) && !r.StartsWith("dc-", StringComparison.Ordinal)))
                set.Add(r);
        return set;
    }

    /// <summary>Whether a node of that name is still a member (not removed or downed): a move from it is a hand-over, not a failover.</summary>
    public bool IsMember(string node)
    {
        if (System is null) return false;
        var state = Akka.Cluster.Cluster.Get(System).State;
        return state.Members.Any(m => (m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Joining or MemberStatus.WeaklyUp)
                                      && m.Roles.Contains(NodeRolePrefix + node) && !state.Unreachable.Contains(m));
    }

    /// <summary>The shard region of a role: this node's own, or a proxy to the nodes of that role.</summary>
    public IActorRef RegionFor(string role)
    {
        var sharding = ClusterSharding.Get(System!);
        if (role == Role) return sharding.ShardRegion(TypeName(role));
        try
        {
            return sharding.ShardRegionProxy(TypeName(role));
        }
        catch (ArgumentException)
        {
            return sharding.StartProxy(TypeName(role), role, new GroupMessageExtractor(Options.Shards));
        }
    }
}
