using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Vigil.Cluster.Messages;

namespace Vigil.Cluster.Entities;

/// <summary>
/// The sharded entity of one (stream, detector group), placed by the shard coordinator on one node of the
/// group's role. It runs the group's pipeline as the reconciler's <see cref="EnsureGroup"/> describes it,
/// restarts it when the description changes, stops it on <see cref="StopGroup"/>, and on a shard
/// hand-over (<see cref="HandOverStop"/>) stops without closing what is open, for the next node to continue.
/// An entity that hears nothing from the reconciler for the lease time stops itself.
/// </summary>
public sealed class GroupEntity : ReceiveActor, IWithTimers
{
    private readonly string _streamId;
    private readonly string _role;
    private readonly FleetNodeContext _fleet;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IGroupRunner? _runner;
    private string? _version;
    private DateTime _heard = DateTime.UtcNow;

    public ITimerScheduler Timers { get; set; } = null!;

    public GroupEntity(string streamId, string role, FleetNodeContext fleet)
    {
        _streamId = streamId;
        _role = role;
        _fleet = fleet;
        ReceiveAsync<EnsureGroup>(EnsureAsync);
        ReceiveAsync<StopGroup>(async m =>
        {
            if (_runner is null)
            {
                // nothing runs here (it was moving, or its node died): what it left open is closed all the same
                try
                {
                    _fleet.Runners.CloseLeftOpen(_streamId, _role, m.Kinds);
                }
                catch (Exception e)
                {
                    _log.Error(e, "Stream {0} group {1}: closing what was left open failed", _streamId, _role);
                }
            }
            await StopRunnerAsync(handingOver: false);
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
        ReceiveAsync<HandOverStop>(async _ =>
        {
            await StopRunnerAsync(handingOver: true);
            Context.Stop(Self);
        });
        ReceiveAsync<LeaseCheck>(async _ =>
        {
            if (DateTime.UtcNow - _heard < TimeSpan.FromSeconds(_fleet.Options.EntityLeaseSeconds)) return;
            _log.Warning("Stream {0} group {1}: no word from the reconciler for {2} s, stopping", _streamId, _role, _fleet.Options.EntityLeaseSeconds);
            await StopRunnerAsync(handingOver: false);
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("lease", LeaseCheck.Instance, TimeSpan.FromSeconds(1));

    protected override void PostStop()
    {
        // the node is going away without a hand-over message (actor system terminating): keep defects open for the next node
        if (_runner is not { } runner) return;
        _runner = null;
        Task.Run(() => runner.StopAsync(handingOver: true)).Wait(TimeSpan.FromSeconds(10));
        _fleet.Local.Stopped(_streamId, _role, forget: false);
    }

    private async Task EnsureAsync(EnsureGroup message)
    {
        _heard = DateTime.UtcNow;
        if (_runner is not null && _version == message.Version) return;
        GroupAssignment assignment;
        try
        {
            assignment = GroupAssignment.From(message);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            _log.Error("Stream {0} group {1}: unreadable assignment: {2}", _streamId, _role, e.Message);
            return;
        }
        var restart = _runner is not null;
        await StopRunnerAsync(handingOver: false);
        string? previous = null;
        if (!restart)
        {
            previous = _fleet.Placements.Claim(_streamId, _role, _fleet.NodeName, _fleet.IsMember);
        }
        try
        {
            _runner = _fleet.Runners.Start(assignment, previous);
            _version = message.Version;
            _fleet.Local.Started(assignment, _runner);
        }
        catch (Exception e)
        {
            // a bad definition or a store hiccup: the next tick tries again
            _log.Error(e, "Stream {0} group {1}: pipeline failed to start", _streamId, _role);
            _runner = null;
            _version = null;
        }
    }

    private async Task StopRunnerAsync(bool handingOver)
    {
        if (_runner is not { } runner) return;
        _runner = null;
        _version = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await runner.StopAsync(handingOver);
            if (clock.Elapsed > TimeSpan.FromSeconds(1))
                _log.Warning("Stream {0} group {1}: stopping the pipeline took {2:0.00} s", _streamId, _role, clock.Elapsed.TotalSeconds);
        }
        catch (Exception e)
        {
            _log.Error(e, "Stream {0} group {1}: pipeline failed while stopping", _streamId, _role);
        }
        _fleet.Local.Stopped(_streamId, _role, forget: !handingOver);
    }

    private sealed class LeaseCheck
    {
        public static readonly LeaseCheck Instance = new();
    }
}

/// <summary>Routes fleet messages to entities: entity id = stream id (the region is the role's), shard = a stable hash of it.</summary>
public sealed class GroupMessageExtractor(int shards) : IMessageExtractor
{
    public string EntityId(object message) => message switch
    {
        EnsureGroup m => m.StreamId,
        StopGroup m => m.StreamId,
        _ => null!,
    };

    public object EntityMessage(object message) => message;

    public string ShardId(object message) => ShardOf(EntityId(message));

    public string ShardId(string entityId, object? messageHint = null) => ShardOf(entityId);

    /// <summary>FNV-1a: the same shard on every node and every run (string.GetHashCode is randomised per process).</summary>
    private string ShardOf(string entityId)
    {
        var hash = 2166136261u;
        foreach (var c in entityId) hash = (hash ^ c) * 16777619u;
        return (hash % (uint)shards).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
