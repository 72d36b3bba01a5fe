using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Vigil.Cluster.Entities;
using Vigil.Cluster.Messages;
using Vigil.Cluster.Placement;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Cluster.Orchestration;

/// <summary>
/// The cluster singleton that makes running match desired. Every reconcile tick (and at once when an API
/// call changed something) it reads the streams from the shared store, splits each stream's detectors
/// into groups by the roles known to the fleet, and tells every group whose role has a member to run
/// (<see cref="EnsureGroup"/>, through the role's shard region): the shard coordinator places a new
/// entity, or restarts it on a survivor after its node was downed. Groups that disappeared (stream
/// removed, paused, regrouped) get <see cref="StopGroup"/>. The same tick is the entities' lease.
/// </summary>
public sealed class Reconciler : ReceiveActor, IWithTimers
{
    private readonly FleetNodeContext _fleet;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _regions = new(StringComparer.Ordinal);
    private Dictionary<(string Stream, string Role), IReadOnlyList<string>> _ensured = [];
    private IReadOnlyList<string> _roles = [];
    private DateTime _rolesRead = DateTime.MinValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public Reconciler(FleetNodeContext fleet)
    {
        _fleet = fleet;
        Receive<Tick>(_ => Reconcile());
        Receive<DesiredChanged>(m =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Reconcile();
            if (clock.Elapsed > TimeSpan.FromSeconds(0.5)) _log.Warning("Reconciling after '{0}' took {1:0.00} s", m.Reason, clock.Elapsed.TotalSeconds);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => Reconcile());
    }

    /// <summary>Reconcile passes done (for metrics and the benchmark).</summary>
    public static long Passes => Interlocked.Read(ref _passes);

    private static long _passes;

    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(_fleet.Options.ReconcileSeconds));
        _log.Info("Reconciler started on {0}", _fleet.NodeName);
    }

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void Reconcile()
    {
        IReadOnlyList<StreamConfig> streams;
        try
        {
            streams = _fleet.Store.ListStreams();
            if (DateTime.UtcNow - _rolesRead > TimeSpan.FromSeconds(5) || _roles.Count == 0)
            {
                _roles = _fleet.Placements.Roles();
                _rolesRead = DateTime.UtcNow;
            }
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            _log.Warning("Reconcile skipped: the store did not answer ({0})", e.Message);
            return;
        }
        Interlocked.Increment(ref _passes);
        var upRoles = _fleet.UpRoles();
        var desired = new Dictionary<(string, string), IReadOnlyList<string>>();
        foreach (var stream in streams.Where(s => !s.Paused))
        {
            foreach (var group in FleetPlan.Groups(stream, _roles))
            {
                if (!upRoles.Contains(group.Role)) continue; // shown as unassigned by every node's API
                desired[(stream.Id, group.Role)] = group.ReportsStall ? [.. group.Kinds, DetectorGroups.StallKind] : group.Kinds;
                var config = stream with { Detectors = group.Kinds };
                var version = $"{stream.UpdatedAt.UtcTicks}|{string.Join(',', group.Kinds)}|{group.ReportsStall}";
                Region(group.Role).Tell(new EnsureGroup(stream.Id, group.Role, JsonSerializer.Serialize(config), group.Kinds, group.ReportsStall, version));
            }
        }
        foreach (var (gone, kinds) in _ensured.Where(e => !desired.ContainsKey(e.Key)))
            if (upRoles.Contains(gone.Role)) Region(gone.Role).Tell(new StopGroup(gone.Stream, gone.Role, kinds));
        _ensured = desired;
    }

    private IActorRef Region(string role)
    {
        if (_regions.TryGetValue(role, out var region)) return region;
        region = _fleet.RegionFor(role);
        _regions[role] = region;
        return region;
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}

/// <summary>The fleet's plan for one stream: its detector groups over the known roles, and what no role covers.</summary>
public static class FleetPlan
{
    public static IReadOnlyList<DetectorGroup> Groups(StreamConfig stream, IReadOnlyList<string> roles)
    {
        try
        {
            var (selected, _) = DetectorSetup.Build(stream);
            return DetectorGroups.Split(selected, roles).Groups;
        }
        catch (ArgumentException)
        {
            return []; // validated when it was added; a catalog change made it invalid: nothing to run
        }
    }

    /// <summary>Groups no member can run now, and kinds no known role covers: the stream's <c>unassigned</c>.</summary>
    public static IReadOnlyList<string> Unassigned(StreamConfig stream, IReadOnlyList<string> roles, ISet<string> upRoles)
    {
        if (stream.Paused) return [];
        try
        {
            var (selected, _) = DetectorSetup.Build(stream);
            var (groups, uncovered) = DetectorGroups.Split(selected, roles);
            return groups.Where(g => !upRoles.Contains(g.Role)).Select(g => g.Role).Concat(uncovered).ToList();
        }
        catch (ArgumentException)
        {
            return [];
        }
    }
}
