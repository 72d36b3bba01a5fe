using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Vigil.Cluster.Messages;
using Vigil.Cluster.Store;
using Vigil.Service;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Cluster.Entities;

/// <summary>What a fleet entity runs for one (stream, detector group), as the reconciler asked for it.</summary>
/// <param name="Config">The stream's definition with <see cref="StreamConfig.Detectors"/> narrowed to the group's kinds.</param>
public sealed record GroupAssignment(StreamConfig Config, string Role, IReadOnlyList<string> Kinds, bool ReportsStall, string Version)
{
    public static GroupAssignment From(EnsureGroup m) =>
        new(JsonSerializer.Deserialize<StreamConfig>(m.Config) ?? throw new ArgumentException("empty stream config"), m.Role, m.Kinds, m.ReportsStall, m.Version);

    /// <summary>The event kinds this group reports (its detectors, plus <c>stream.stall</c> for the lead group).</summary>
    public IReadOnlyList<string> ReportedKinds => ReportsStall ? [.. Kinds, Placement.DetectorGroups.StallKind] : Kinds;
}

/// <summary>The pipeline of one (stream, group) on this node: the same pipeline <c>vigil serve</c> runs alone, or a synthetic one.</summary>
public interface IGroupRunner
{
    StreamStatus Status { get; }

    /// <summary>The pipeline, when it is a real one (its live picture and meters are the dashboard's).</summary>
    StreamSupervisor? Supervisor => null;

    /// <summary>Stops the pipeline. <paramref name="handingOver"/>: it moves to another node, which continues its open defects.</summary>
    Task StopAsync(bool handingOver);
}

/// <summary>Starts runners; the entity does not know whether they decode.</summary>
public interface IGroupRunnerFactory
{
    /// <param name="previousNode">The node that ran this group before (failover or hand-over); null at a first start.</param>
    IGroupRunner Start(GroupAssignment assignment, string? previousNode);

    /// <summary>
    /// The group is gone (stream removed or regrouped) while no pipeline of it runs: closes the defects of
    /// <paramref name="kinds"/> a previous node left open, and forgets where the group ran.
    /// </summary>
    void CloseLeftOpen(string streamId, string role, IReadOnlyList<string> kinds);
}

/// <summary>
/// The real thing: a <see cref="StreamSupervisor"/> that decodes the stream itself (only the media its
/// detectors need) and publishes through <see cref="FailoverContinuity"/>, which continues or closes
/// what a previous node left open.
/// </summary>
public sealed class SupervisorRunnerFactory(IServiceStore store, Placements placements, EventHub hub, ServiceOptions options, InputPolicy inputs,
    FleetOptions fleet, ILoggerFactory logs)
    : IGroupRunnerFactory
{
    public IGroupRunner Start(GroupAssignment assignment, string? previousNode)
    {
        var config = assignment.Config;
        var kinds = assignment.ReportedKinds;
        var open = previousNode is null
            ? []
            : store.OpenDefects(config.Id).Where(e => kinds.Contains(e.Kind, StringComparer.OrdinalIgnoreCase)).ToList();
        var position = store.GetPosition(config.Id);
        var takeover = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - config.Epoch, position);
        var continuity = new FailoverContinuity(hub, open, takeover, position, fleet.FailoverGraceSeconds, logs.CreateLogger("Vigil.Fleet.Continuity"));
        var supervisor = new StreamSupervisor(config, options, continuity, store, inputs, logs.CreateLogger("Vigil.Stream"), assignment.ReportsStall);
        supervisor.Start();
        return new Runner(supervisor, continuity);
    }

    public void CloseLeftOpen(string streamId, string role, IReadOnlyList<string> kinds)
    {
        var row = placements.Row(streamId, role);
        if (row is null) return; // never ran: nothing open
        var open = store.OpenDefects(streamId).Where(e => kinds.Contains(e.Kind, StringComparer.OrdinalIgnoreCase)).ToList();
        using (var continuity = new FailoverContinuity(hub, open, 0, row.Status?.Position ?? 0, graceSeconds: 3600, logs.CreateLogger("Vigil.Fleet.Continuity")))
            continuity.CloseUnconfirmed();
        placements.Forget(streamId, role);
    }

    private sealed class Runner(StreamSupervisor supervisor, FailoverContinuity continuity) : IGroupRunner
    {
        public StreamStatus Status => supervisor.Status;

        public StreamSupervisor Supervisor => supervisor;

        public async Task StopAsync(bool handingOver)
        {
            continuity.HoldCloses = handingOver;
            await supervisor.DisposeAsync();
            if (!handingOver) continuity.CloseUnconfirmed(); // stopped before the grace ran out: close what was inherited
            continuity.Dispose();
        }
    }
}

/// <summary>
/// The control-plane benchmark's pipeline: no media, no decoding; it reports a running status whose
/// position follows the wall clock, so each one costs the fleet what an idle real one costs in placement,
/// messages and heartbeats.
/// </summary>
public sealed class SyntheticRunnerFactory(IServiceStore store) : IGroupRunnerFactory
{
    public IGroupRunner Start(GroupAssignment assignment, string? previousNode) => new Runner(assignment.Config, store);

    public void CloseLeftOpen(string streamId, string role, IReadOnlyList<string> kinds)
    {
    }

    private sealed class Runner(StreamConfig config, IServiceStore store) : IGroupRunner
    {
        private static readonly IReadOnlyDictionary<string, long> NoDefects = new Dictionary<string, long>();

        public StreamStatus Status
        {
            get
            {
                var position = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - config.Epoch;
                store.SavePosition(config.Id, position); // as a real pipeline does (buffered: one statement a second per node)
                return new StreamStatus(StreamState.Running, false, null, 1, 0, 0, 0, 0, position, NoDefects, null);
            }
        }

        public Task StopAsync(bool handingOver) => Task.CompletedTask;
    }
}

/// <summary>The (stream, group) pipelines running on this node, for the API, metrics, results and the status heartbeat.</summary>
public sealed class LocalGroups
{
    private readonly ConcurrentDictionary<(string Stream, string Role), (GroupAssignment Assignment, IGroupRunner Runner)> _running = new();
    private readonly ConcurrentQueue<(string Stream, string Role)> _stopped = new();

    public void Started(GroupAssignment a, IGroupRunner runner) => _running[(a.Config.Id, a.Role)] = (a, runner);

    /// <summary>A pipeline stopped here; <paramref name="forget"/>: and its placement row goes (not on a hand-over: the next node overwrites it).</summary>
    public void Stopped(string stream, string role, bool forget)
    {
        _running.TryRemove((stream, role), out _);
        if (forget) _stopped.Enqueue((stream, role));
    }

    public int Count => _running.Count;

    public IReadOnlyList<(GroupAssignment Assignment, IGroupRunner Runner)> All => _running.Values.ToList();

    public IReadOnlyList<LocalPipeline> Pipelines =>
        _running.Values.Select(v => new LocalPipeline(v.Assignment.Config, v.Assignment.Role, v.Runner.Status, v.Assignment.ReportedKinds)).ToList();

    internal List<(string Stream, string Role)> DrainStopped()
    {
        var list = new List<(string, string)>();
        while (_stopped.TryDequeue(out var s)) list.Add(s);
        return list;
    }
}
