using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>
/// What the API changes and reads about monitored streams. One process: <see cref="StreamManager"/> runs
/// a pipeline per stream itself. A fleet (Vigil.Cluster): the desired state goes to the shared store and
/// the pipelines run on whichever nodes the cluster placed each stream's detector groups on.
/// </summary>
public interface IStreamControl
{
    /// <summary>Stores a new stream and starts monitoring it unless it is paused.</summary>
    Task AddAsync(StreamConfig stream);

    /// <summary>Saves a changed definition and restarts its pipelines with it (or stops them when paused).</summary>
    Task<bool> UpdateAsync(StreamConfig stream);

    /// <summary>Stops monitoring a stream and forgets it.</summary>
    Task<bool> RemoveAsync(string id);

    /// <summary>The stream's pipeline status (a programme stream's too, <c>{id}.{program}</c>); null when nothing runs it.</summary>
    StreamStatus? Status(string id);

    /// <summary>Whether a stream can monitor programmes of a multiplex each as a stream of its own (<see cref="StreamConfig.Programs"/>).</summary>
    bool MonitorsProgramStreams => false;

    /// <summary>The programme streams of a multiplex stream, in the multiplex's order (those seen so far); none for any other stream.</summary>
    IReadOnlyList<StreamConfig> ProgramStreams(string id) => [];

    /// <summary>A programme stream by its id (<c>{id}.{program}</c>); null when there is none.</summary>
    StreamConfig? ProgramStream(string id) => null;

    /// <summary>Where a fleet runs the stream's detector groups; null for one process.</summary>
    StreamPlacement? Placement(string id) => null;

    /// <summary>The pipelines this process runs, for metrics and results.</summary>
    IReadOnlyList<LocalPipeline> Local { get; }

    /// <summary>
    /// The pipelines of one stream that run in this process (none, one, or in a fleet one per detector group
    /// placed here), whose live picture and meters the dashboard reads.
    /// </summary>
    IReadOnlyList<StreamSupervisor> LocalSupervisors(string id);

    /// <summary>The stream's latest picture as a thumbnail (in a fleet, from whichever node decodes its pictures); null when there is none.</summary>
    Task<Thumbnail?> ThumbnailAsync(string id, CancellationToken cancel) => Task.FromResult(LiveView.Thumbnail(LocalSupervisors(id)));

    /// <summary>The stream's loudness over the last <paramref name="seconds"/> (in a fleet, from whichever node measures its audio); null when nothing measured it.</summary>
    Task<LoudnessHistory?> LoudnessAsync(StreamConfig stream, int seconds, CancellationToken cancel) =>
        Task.FromResult(LiveView.Loudness(LocalSupervisors(stream.Id), stream, seconds));
}

/// <summary>One pipeline of this process: a stream, or in a fleet one detector group of a stream (<paramref name="Group"/>).</summary>
/// <param name="Kinds">The event kinds this pipeline reports; null: every kind of its stream.</param>
public sealed record LocalPipeline(StreamConfig Config, string? Group, StreamStatus Status, IReadOnlyList<string>? Kinds = null)
{
    public bool Reports(string kind) => Kinds is null || Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase);
}

/// <summary>A fleet's view of one stream: each detector group with the node running it, and the groups no node can run.</summary>
public sealed record StreamPlacement(IReadOnlyList<GroupPlacement> Groups, IReadOnlyList<string> Unassigned);

/// <summary>One detector group of a stream: its detector kinds, the node running it (null: none yet) and that pipeline's state.</summary>
public sealed record GroupPlacement(string Group, IReadOnlyList<string> Detectors, string? Node, StreamStatus? Status);
