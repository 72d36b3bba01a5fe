using Akka.Actor;
using Akka.Hosting;
using Vigil.Cluster.Entities;
using Vigil.Cluster.Messages;
using Vigil.Cluster.Store;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Cluster.Orchestration;

/// <summary>
/// The API's streams on a fleet node: changes go to the shared store and wake the reconciler (which
/// places or stops the pipelines within a tick); status and placement come from the pipelines' heartbeat
/// rows, read at most once a second whatever the number of API calls.
/// </summary>
public sealed class FleetStreams(FleetNodeContext fleet, IRequiredActor<Reconciler> reconciler) : IStreamControl
{
    /// <summary>A heartbeat older than this is a pipeline that no longer runs (its node died before the row moved).</summary>
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private (DateTime At, IReadOnlyList<PlacementRow> Rows) _rows = (DateTime.MinValue, []);
    private (DateTime At, IReadOnlyList<string> Roles) _roles = (DateTime.MinValue, []);

    public async Task AddAsync(StreamConfig stream)
    {
        fleet.Store.InsertStream(stream);
        await WakeAsync("added " + stream.Id);
    }

    public async Task<bool> UpdateAsync(StreamConfig stream)
    {
        if (!fleet.Store.UpdateStream(stream)) return false;
        await WakeAsync("changed " + stream.Id);
        return true;
    }

    public async Task<bool> RemoveAsync(string id)
    {
        if (!fleet.Store.DeleteStream(id)) return false;
        await WakeAsync("removed " + id);
        return true;
    }

    private async Task WakeAsync(string reason)
    {
        var proxy = await reconciler.GetAsync();
        proxy.Tell(new DesiredChanged(reason));
    }

    public StreamStatus? Status(string id)
    {
        var rows = Live(id);
        if (rows.Count == 0) return null;
        // the lead group (it reports stalls) speaks for the stream; defects of every group are counted
        var lead = rows.OrderBy(r => r.Role, StringComparer.Ordinal).First().Status!;
        var defects = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in rows)
            foreach (var (kind, n) in r.Status!.DefectsByKind) defects[kind] = defects.GetValueOrDefault(kind) + n;
        return lead with
        {
            Stalled = rows.Any(r => r.Status!.Stalled),
            FramesAnalysed = rows.Max(r => r.Status!.FramesAnalysed),
            FramesShed = rows.Sum(r => r.Status!.FramesShed),
            DefectsByKind = defects,
            Media = rows.Select(r => r.Status!.Media).FirstOrDefault(m => m is not null),
            Meters = rows.Select(r => r.Status!.Meters).FirstOrDefault(m => m is not null), // the group that decodes audio
        };
    }

    public StreamPlacement? Placement(string id)
    {
        if (fleet.Store.GetStream(id) is not { } stream) return null;
        var roles = Roles();
        var live = Live(id);
        var groups = FleetPlan.Groups(stream, roles).Select(g =>
        {
            var row = live.FirstOrDefault(r => r.Role == g.Role);
            return new GroupPlacement(g.Role, g.Kinds, row?.Node, row?.Status);
        }).ToList();
        return new StreamPlacement(groups, FleetPlan.Unassigned(stream, roles, fleet.UpRoles()));
    }

    public IReadOnlyList<LocalPipeline> Local => fleet.Local.Pipelines;

    /// <summary>How long a node may take to answer for a stream's live view before the dashboard gets nothing this time.</summary>
    private static readonly TimeSpan LiveViewTimeout = TimeSpan.FromSeconds(2);

    public async Task<Thumbnail?> ThumbnailAsync(string id, CancellationToken cancel) =>
        LiveView.Thumbnail(LocalSupervisors(id)) ?? (await AskRunnersAsync(id, new LiveViewAsk(id, 0), a => a.Thumbnail is not null, cancel))?.Thumbnail;

    public async Task<LoudnessHistory?> LoudnessAsync(StreamConfig stream, int seconds, CancellationToken cancel) =>
        LiveView.Loudness(LocalSupervisors(stream.Id), stream, seconds)
        ?? (await AskRunnersAsync(stream.Id, new LiveViewAsk(stream.Id, seconds), a => a.Loudness is not null, cancel))?.Loudness;

    /// <summary>Asks the other nodes running a group of the stream (by their heartbeat rows) at once; the first answer that has it.</summary>
    private async Task<LiveViewAnswer?> AskRunnersAsync(string id, LiveViewAsk ask, Func<LiveViewAnswer, bool> has, CancellationToken cancel)
    {
        if (fleet.System is not { } system) return null;
        var members = Akka.Cluster.Cluster.Get(system).State.Members;
        var nodes = Live(id).Select(r => r.Node).Where(n => n != fleet.NodeName).Distinct()
            .Select(n => members.FirstOrDefault(m => m.Roles.Contains(FleetNodeContext.NodeRolePrefix + n))?.Address).OfType<Address>().ToList();
        var asks = nodes.Select(async address =>
        {
            try
            {
                return await system.ActorSelection(LiveViewActor.Path(address)).Ask<LiveViewAnswer>(ask, LiveViewTimeout, cancel);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
            {
                return null; // a node going away or too busy: the next request asks again
            }
        }).ToList();
        foreach (var answer in await Task.WhenAll(asks))
            if (answer is not null && has(answer)) return answer;
        return null;
    }

    public IReadOnlyList<StreamSupervisor> LocalSupervisors(string id) =>
        fleet.Local.All.Where(g => g.Assignment.Config.Id == id).OrderBy(g => g.Assignment.Role, StringComparer.Ordinal)
            .Select(g => g.Runner.Supervisor).OfType<StreamSupervisor>().ToList();

    /// <summary>Heartbeat rows that are fresh, of nodes still members.</summary>
    public IReadOnlyList<PlacementRow> LiveRows()
    {
        IReadOnlyList<PlacementRow> rows;
        lock (_gate)
        {
            if (DateTime.UtcNow - _rows.At > TimeSpan.FromSeconds(1)) _rows = (DateTime.UtcNow, fleet.Placements.All());
            rows = _rows.Rows;
        }
        var now = DateTimeOffset.UtcNow;
        return rows.Where(r => r.Status is not null && now - r.Heartbeat < Fresh && fleet.IsMember(r.Node)).ToList();
    }

    private List<PlacementRow> Live(string id) => LiveRows().Where(r => r.StreamId == id).ToList();

    /// <summary>The roles known to the fleet (read at most every 5 s).</summary>
    public IReadOnlyList<string> Roles()
    {
        lock (_gate)
        {
            if (DateTime.UtcNow - _roles.At > TimeSpan.FromSeconds(5)) _roles = (DateTime.UtcNow, fleet.Placements.Roles());
            return _roles.Roles;
        }
    }
}
