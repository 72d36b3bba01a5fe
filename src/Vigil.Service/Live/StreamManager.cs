using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>
/// Owns one <see cref="StreamSupervisor"/> per monitored stream. At start it closes the defects a crash
/// left open and resumes every stream that is not paused; the API's changes go through it so the
/// database and the running pipelines agree.
/// </summary>
public sealed class StreamManager(IServiceStore store, EventHub hub, ServiceOptions options, InputPolicy inputs, ILoggerFactory logs) : IHostedService, IStreamControl
{
    private readonly ILogger _log = logs.CreateLogger("Vigil.Streams");
    private readonly Dictionary<string, StreamSupervisor> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MultiplexFeed> _multiplexes = new(StringComparer.Ordinal); // streams of a programme stream each (under _running's lock)
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var stream in store.ListStreams())
            {
                // a running stream's supervisor takes over what the last run left open; a paused one closes it
                if (stream.Paused) CloseLeftOpen(stream);
                else Launch(stream);
            }
            _log.LogInformation("Monitoring {Count} streams", _running.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Graceful shutdown: every pipeline stops and closes its open defects before the store closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            // the stopped supervisors stay listed so the last results segment still has their status
            // an open stall stays open: the feed is still dead as far as anyone knows, the next run continues it
            List<MultiplexFeed> multiplexes;
            lock (_running) multiplexes = [.. _multiplexes.Values];
            await Task.WhenAll(Singles.Select(s => s.StopAsync(stallGoesOn: true)).Concat(multiplexes.Select(m => m.StopAsync(stallGoesOn: true))));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The pipeline of a stream, or of a programme stream (<c>{id}.{program}</c>); null when none runs.</summary>
    public StreamSupervisor? Supervisor(string id)
    {
        lock (_running)
            return _running.GetValueOrDefault(id) ?? _multiplexes.Values.SelectMany(m => m.Programs).FirstOrDefault(p => p.Id == id);
    }

    /// <summary>Every pipeline: of each stream, and of each programme stream of a multiplex.</summary>
    public IReadOnlyList<StreamSupervisor> Supervisors
    {
        get { lock (_running) return [.. _running.Values, .. _multiplexes.Values.SelectMany(m => m.Programs)]; }
    }

    private IReadOnlyList<StreamSupervisor> Singles
    {
        get { lock (_running) return _running.Values.ToList(); }
    }

    public StreamStatus? Status(string id)
    {
        lock (_running)
            if (_multiplexes.TryGetValue(id, out var multiplex)) return multiplex.Status;
        return Supervisor(id)?.Status;
    }

    public bool MonitorsProgramStreams => true;

    public IReadOnlyList<StreamConfig> ProgramStreams(string id)
    {
        lock (_running) return _multiplexes.TryGetValue(id, out var m) ? m.Programs.Select(p => p.Config).ToList() : [];
    }

    public StreamConfig? ProgramStream(string id)
    {
        lock (_running) return _multiplexes.Values.SelectMany(m => m.Programs).FirstOrDefault(p => p.Id == id)?.Config;
    }

    public IReadOnlyList<StreamSupervisor> LocalSupervisors(string id) => Supervisor(id) is { } s ? [s] : [];

    /// <summary>Each stream's pipeline; a multiplex of programme streams as its receive and each programme stream.</summary>
    public IReadOnlyList<LocalPipeline> Local
    {
        get
        {
            List<MultiplexFeed> multiplexes;
            lock (_running) multiplexes = [.. _multiplexes.Values];
            return Singles.Select(s => new LocalPipeline(s.Config, null, s.Status))
                .Concat(multiplexes.SelectMany(m => m.Programs.Select(p => new LocalPipeline(p.Config, null, p.Status)).Prepend(new LocalPipeline(m.Config, null, m.Status))))
                .ToList();
        }
    }

    public async Task AddAsync(StreamConfig stream)
    {
        await _gate.WaitAsync();
        try
        {
            store.InsertStream(stream);
            if (!stream.Paused) Launch(stream);
            _log.LogInformation("Stream {StreamId} added: {Url}", stream.Id, UrlRedaction.Redact(stream.Url));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Saves a changed definition and restarts its pipeline with it (or stops it when paused).</summary>
    public async Task<bool> UpdateAsync(StreamConfig stream)
    {
        await _gate.WaitAsync();
        try
        {
            if (!store.UpdateStream(stream)) return false;
            await StopOne(stream.Id, stallGoesOn: !stream.Paused);
            if (!stream.Paused) Launch(stream);
            _log.LogInformation("Stream {StreamId} changed (paused: {Paused})", stream.Id, stream.Paused);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> RemoveAsync(string id)
    {
        await _gate.WaitAsync();
        try
        {
            await StopOne(id);
            var removed = store.DeleteStream(id);
            if (removed) _log.LogInformation("Stream {StreamId} removed", id);
            return removed;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a stream's pipeline, which takes over what its last run left open (a stall, a crash's defects).</summary>
    private void Launch(StreamConfig stream)
    {
        if (stream.Programs is not null)
        {
            var multiplex = new MultiplexFeed(stream, options, inputs, logs.CreateLogger("Vigil.Stream"), (program, feed) =>
            {
                var child = new StreamSupervisor(program, options, hub, store, inputs, logs.CreateLogger("Vigil.Stream"), leftOpen: store.OpenDefects(program.Id), feed: feed);
                child.Start();
                return child;
            });
            lock (_running) _multiplexes[stream.Id] = multiplex;
            multiplex.Start();
            return;
        }
        var supervisor = new StreamSupervisor(stream, options, hub, store, inputs, logs.CreateLogger("Vigil.Stream"), leftOpen: store.OpenDefects(stream.Id));
        lock (_running) _running[stream.Id] = supervisor;
        supervisor.Start();
    }

    private async Task StopOne(string id, bool stallGoesOn = false)
    {
        StreamSupervisor? supervisor;
        MultiplexFeed? multiplex = null;
        lock (_running)
        {
            if (!_running.Remove(id, out supervisor) && !_multiplexes.Remove(id, out multiplex)) return;
        }
        if (multiplex is not null)
        {
            await multiplex.StopAsync(stallGoesOn: stallGoesOn);
            await multiplex.DisposeAsync();
            return;
        }
        await supervisor!.StopAsync(stallGoesOn: stallGoesOn);
        await supervisor.DisposeAsync();
    }

    /// <summary>
    /// A paused stream's defects left open (by a <c>kill -9</c>, or a stall the last run kept open): nothing
    /// will find them again, so end them at the last stream time saved with <c>closed_by: "restart"</c>, and
    /// every <c>defect_start</c> a client saw is followed by its <c>defect</c>.
    /// </summary>
    private void CloseLeftOpen(StreamConfig stream)
    {
        var position = store.GetPosition(stream.Id);
        foreach (var open in store.OpenDefects(stream.Id))
        {
            var defect = EventJson.ParseDefect(open.Json);
            hub.Publish(stream.Id, stream.Epoch, (defect with { End = Math.Max(defect.Start, position) }).ClosedByMonitor(Vigil.Events.ClosedBy.Restart), open.SnapshotId);
            _log.LogInformation("Stream {StreamId}: closed {Kind} left open by the previous run", stream.Id, defect.Kind);
        }
    }
}
