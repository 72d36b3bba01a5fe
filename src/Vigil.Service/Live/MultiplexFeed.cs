using Microsoft.Extensions.Logging;
using Vigil.Detectors;
using Vigil.Media;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>
/// A stream that monitors programmes of a multiplex each as a stream of its own (<see cref="StreamConfig.Programs"/>):
/// ONE receive and ONE demux with its transport analysis, a decoder per programme, and per programme a
/// <see cref="StreamSupervisor"/> (id <c>{id}.{program}</c>) with its own detectors, timeline from its own clock,
/// status, picture, meters and events, which reads its programme from here (<see cref="ProgramReader"/>). The
/// programme streams are created as their programmes are first seen, so a programme that starts later (a new
/// PMT in the PAT) is picked up: the receive reconnects to decode it. One that leaves the multiplex goes quiet,
/// and its stream reports <c>stream.stall</c> until it comes back. Findings on the multiplex as a whole (sync,
/// PAT, CAT) go to every programme stream, as they would to a stream naming that programme
/// (<see cref="StreamConfig.Program"/>).
/// </summary>
public sealed class MultiplexFeed : IAsyncDisposable
{
    /// <summary>How often (in items read, so that the answer does not depend on timing) the receive looks for a programme it does not decode yet.</summary>
    private const int NewProgramCheck = 100;

    private readonly ServiceOptions _options;
    private readonly InputPolicy _inputs;
    private readonly ILogger _log;
    private readonly Func<StreamConfig, MultiplexFeed, StreamSupervisor> _launch;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<(int Program, StreamSupervisor Supervisor)> _programs = []; // in the order first seen
    private readonly HashSet<int> _reconnectedFor = [];         // programmes that appeared later, reconnected for once (receive thread)
    private Connection? _live;                                  // the connection programme streams attach to; null between
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamState _state = StreamState.Starting;
    private string? _lastError;
    private long _connections;
    private string? _format;
    private Task? _run;

    /// <param name="launch">Creates and starts the supervisor of a programme stream (its config, this feed).</param>
    public MultiplexFeed(StreamConfig config, ServiceOptions options, InputPolicy inputs, ILogger log, Func<StreamConfig, MultiplexFeed, StreamSupervisor> launch)
    {
        Config = config;
        _options = options;
        _inputs = inputs;
        _log = log;
        _launch = launch;
    }

    /// <summary>The multiplex stream as defined (its <see cref="StreamConfig.Programs"/> set).</summary>
    public StreamConfig Config { get; }

    /// <summary>The programme streams, in the order their programmes were first seen.</summary>
    public IReadOnlyList<StreamSupervisor> Programs
    {
        get { lock (_gate) return _programs.Select(p => p.Supervisor).ToList(); }
    }

    /// <summary>
    /// The receive's own status: its state, connections and last error, the input's format, and the programme streams'
    /// ids (<see cref="StreamStatus.ProgramStreams"/>); frames are the programmes' together, defects are theirs.
    /// </summary>
    public StreamStatus Status
    {
        get
        {
            var programs = Programs;
            var statuses = programs.Select(p => p.Status).ToList();
            lock (_gate)
            {
                return new StreamStatus(_state, statuses.Count > 0 && statuses.All(s => s.Stalled), _lastError, _connections,
                    statuses.Sum(s => s.FramesAnalysed), statuses.Sum(s => s.FramesShed), Math.Round(statuses.Sum(s => s.Fps), 2),
                    statuses.Count > 0 ? statuses.Max(s => s.LagSeconds) : 0, statuses.Count > 0 ? statuses.Max(s => s.Position) : 0,
                    new Dictionary<string, long>(), _format is null ? null : new MediaSummary(_format, null, 0, 0, 0, null, 0, 0))
                {
                    ProgramStreams = programs.Select(p => p.Id).ToList(),
                };
            }
        }
    }

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>
    /// A programme stream's next connection: a reader of its programme from the receive's live connection, once
    /// there is one that decodes it (waits across reconnects; a programme the multiplex no longer carries waits
    /// until it comes back).
    /// </summary>
    internal async Task<IMediaReader> ConnectAsync(int program, CancellationToken stop)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_live?.Attach(program) is { } reader) return reader;
                changed = _changed.Task;
            }
            await changed.WaitAsync(stop);
        }
    }

    /// <summary>
    /// Stops the programme streams (each closes what it has open, <c>closed_by: "restart"</c>; an open stall goes on
    /// when <paramref name="stallGoesOn"/>), then the receive.
    /// </summary>
    public async Task StopAsync(bool stallGoesOn = false)
    {
        await Task.WhenAll(Programs.Select(p => p.StopAsync(stallGoesOn: stallGoesOn)));
        await _stop.CancelAsync();
        if (_run is not null)
        {
            try
            {
                await _run;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Stream {StreamId} receive failed while stopping", Config.Id);
            }
        }
        lock (_gate) _state = StreamState.Stopped;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var program in Programs) await program.DisposeAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var selected = DetectorSetup.Build(Config).Selected;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            SetState(StreamState.Connecting);
            var hadMedia = false;
            try
            {
                using var source = await OpenAsync(selected, stop);
                (hadMedia, var restart) = await ReceiveAsync(source, stop);
                if (restart) continue; // a programme appeared: open again at once to decode it
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                lock (_gate) _lastError = e.Message;
                if (e is MediaException) _log.LogWarning("Stream {StreamId} input failed: {Reason}", Config.Id, e.Message);
                else _log.LogError(e, "Stream {StreamId} receive failed", Config.Id);
            }
            if (stop.IsCancellationRequested) break;
            failures = hadMedia ? 0 : failures + 1;
            SetState(StreamState.Reconnecting);
            var seconds = Math.Min(_options.ReconnectMaxSeconds, _options.ReconnectMinSeconds * Math.Pow(2, Math.Min(failures, 20)));
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble())), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// Opens the input with a decoder per programme wanted: the programmes listed (those of them the input has), or
    /// every TV and radio programme. Off the caller's thread: opening blocks up to the open timeout.
    /// </summary>
    private async Task<MediaSource> OpenAsync(IReadOnlyList<DetectorDescriptor> selected, CancellationToken stop)
    {
        if (await _inputs.CheckNetworkAsync(Config.Url, stop) is { } refused) throw new MediaException(refused);
        var options = DetectorCatalog.DecodeFor(selected, StreamSupervisor.OpenOptions(_options, null)) with { EveryProgram = true };
        var listed = Config.Programs is { Count: > 0 } list ? list : null;
        var opening = Task.Run(() =>
        {
            if (listed is null) return MediaSource.Open(Config.Url, options);
            try
            {
                return MediaSource.Open(Config.Url, options with { Programs = listed });
            }
            catch (MediaException e) when (e.Message.Contains("is not in the input", StringComparison.Ordinal))
            {
                // a programme listed is missing: monitor those that are there (the missing one's stream waits for it)
                _log.LogWarning("Stream {StreamId}: {Reason}", Config.Id, e.Message);
                return MediaSource.Open(Config.Url, options);
            }
        }, CancellationToken.None);
        try
        {
            return await opening.WaitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            _ = opening.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw;
        }
    }

    /// <summary>
    /// One connection: the programme streams attach to it, and its items go to them until it ends. Whether it
    /// delivered media, and whether it ended to decode a programme that appeared.
    /// </summary>
    private async Task<(bool HadMedia, bool Restart)> ReceiveAsync(MediaSource source, CancellationToken stop)
    {
        var connection = new Connection(this, source);
        foreach (var info in source.Programs)
        {
            var program = ProgramOf(source, info);
            if (!Wanted(program)) continue;
            connection.Decodes(program, info);
            EnsureProgramStream(program, info.ServiceName);
        }
        connection.Prepare();
        var missing = Config.Programs is { Count: > 0 } listed ? listed.Where(p => !connection.Has(p)).ToList() : [];
        lock (_gate)
        {
            _connections++;
            _format = source.Info.Format;
            _lastError = missing.Count > 0 ? $"programmes not in the input: {string.Join(", ", missing)}" : null;
            _state = StreamState.Running;
            _live = connection;
            SignalChanged();
        }
        _log.LogInformation("Stream {StreamId} connected: {Format}, programmes {Programs}", Config.Id, source.Info.Format,
            string.Join(", ", connection.Programmes));
        var done = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new Thread(() => done.SetResult(connection.Pump(stop))) { IsBackground = true, Name = "vigil-receive" };
        Exception? failure;
        using (stop.Register(source.Interrupt))
        {
            reader.Start();
            failure = await done.Task;
        }
        lock (_gate)
        {
            if (_live == connection) _live = null;
            SignalChanged();
        }
        connection.End(failure is OperationCanceledException ? null : failure);
        if (failure is OperationCanceledException && stop.IsCancellationRequested) throw failure;
        lock (_gate) _lastError = failure?.Message ?? (connection.Restart is { } why ? why : "input ended");
        if (failure is not null and not OperationCanceledException)
            _log.LogWarning("Stream {StreamId} input failed: {Reason}", Config.Id, failure.Message);
        return (connection.HadMedia, connection.Restart is not null);
    }

    /// <summary>The service id of a decoded programme: an input decoded as one is its only programme (from its PAT when it has one).</summary>
    private static int ProgramOf(MediaSource source, MediaInfo info) =>
        info.Program != 0 ? info.Program : source.Transport?.Programs.FirstOrDefault(p => p.HasPmt)?.Number ?? 0;

    private bool Wanted(int program) => Config.Programs is not { Count: > 0 } listed || listed.Contains(program);

    /// <summary>The programme's stream, created (and started) the first time the programme is seen.</summary>
    private void EnsureProgramStream(int program, string? serviceName)
    {
        lock (_gate)
            if (_programs.Any(p => p.Program == program)) return;
        var supervisor = _launch(Config.ProgramStream(program, serviceName), this);
        lock (_gate) _programs.Add((program, supervisor));
        _log.LogInformation("Stream {StreamId}: programme {Program} ({Name}) is stream {ProgramStream}", Config.Id, program, serviceName ?? "unnamed", supervisor.Id);
    }

    private void SignalChanged()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void SetState(StreamState state)
    {
        lock (_gate) _state = state;
    }

    /// <summary>One connection of the receive: the programmes it decodes and the reader each programme stream attached.</summary>
    private sealed class Connection(MultiplexFeed owner, MediaSource source)
    {
        private readonly Dictionary<int, MediaInfo> _decoded = []; // programme → what it holds at open
        private readonly Dictionary<int, int> _byItem = [];        // MediaItem.Program → programme (an input decoded as one: 0 → its programme)
        private readonly Lock _gate = new();
        private readonly Dictionary<int, ProgramReader> _readers = [];
        private ProgramReader[] _all = [];
        private readonly HashSet<int> _waiting = [];               // prepared readers no programme stream took yet
        private readonly HashSet<int> _listedAtOpen = source.Transport?.Programs.Select(p => p.Number).ToHashSet() ?? []; // the shim chose from these

        public bool HadMedia { get; private set; }

        /// <summary>Why the receive ended this connection itself (a programme to decode appeared), or null.</summary>
        public string? Restart { get; private set; }

        public IEnumerable<int> Programmes => _decoded.Keys;

        public void Decodes(int program, MediaInfo info)
        {
            _decoded[program] = info;
            _byItem[info.Program] = program;
        }

        public bool Has(int program) => _decoded.ContainsKey(program);

        /// <summary>
        /// A reader for every programme decoded, before the first item is read: what the input delivers before a
        /// programme stream attaches waits for it in its reader's queue (a file is read faster than a busy thread pool
        /// starts a pipeline).
        /// </summary>
        public void Prepare()
        {
            lock (_gate)
            {
                foreach (var program in _decoded.Keys) _readers[program] = NewReader(program);
                _waiting.UnionWith(_decoded.Keys);
                _all = [.. _readers.Values];
            }
        }

        /// <summary>
        /// A programme stream attaches: the reader prepared for it, or (attaching again) a fresh one replacing the one
        /// it had; null when this connection does not decode it.
        /// </summary>
        public ProgramReader? Attach(int program)
        {
            if (!_decoded.ContainsKey(program)) return null;
            lock (_gate)
            {
                if (_waiting.Remove(program)) return _readers[program];
                var reader = NewReader(program);
                _readers.Remove(program, out var previous);
                _readers[program] = reader;
                _all = [.. _readers.Values];
                previous?.End(null);
                return reader;
            }
        }

        private ProgramReader NewReader(int program)
        {
            var opened = _decoded[program];
            return new ProgramReader(() => source.Programs.FirstOrDefault(p => p.Program == opened.Program) ?? opened, source.Transport,
                owner._options.QueueCapacity);
        }

        /// <summary>Reads the input to its end (the receive thread), handing each item to its programme's reader; returns what ended it.</summary>
        public Exception? Pump(CancellationToken stop)
        {
            var read = 0L;
            try
            {
                while (true)
                {
                    var item = source.Read();
                    if (item.Kind == MediaItemKind.End) break;
                    Route(item, stop);
                    if (++read % NewProgramCheck == 0)
                    {
                        if (NewProgramme() is { } appeared)
                        {
                            Restart = $"programme {appeared} appeared: reconnecting to decode it";
                            owner._log.LogInformation("Stream {StreamId}: {Reason}", owner.Config.Id, Restart);
                            break;
                        }
                    }
                }
                foreach (var item in source.FinishTransport()) Route(item, stop);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }

        /// <summary>An item of one programme to its reader; one on the multiplex as a whole (a transport finding, lost packets of no programme) to every reader.</summary>
        private void Route(MediaItem item, CancellationToken stop)
        {
            if (item.Kind is MediaItemKind.Video or MediaItemKind.Audio) HadMedia = true;
            ProgramReader[] readers;
            lock (_gate) readers = _all;
            if (_byItem.TryGetValue(item.Program, out var program)) // 0 only for an input decoded as one: all its items are its programme's
            {
                ProgramReader? reader;
                lock (_gate) reader = _readers.GetValueOrDefault(program);
                if (reader is not null) reader.Offer(item, stop);
                else Release(item);
                return;
            }
            if (item.Kind is MediaItemKind.Transport or MediaItemKind.Event && item.Program == 0)
                foreach (var reader in readers) reader.Offer(item, stop);
            else
                Release(item); // a programme not decoded
        }

        /// <summary>
        /// A TV or radio programme wanted that the PAT lists now (with its PMT) but did not when this connection opened;
        /// null when none. Once per programme: one that cannot be decoded must not reconnect the receive forever.
        /// </summary>
        private int? NewProgramme()
        {
            if (source.Transport is not { } transport) return null;
            foreach (var p in transport.Programs)
                if (p.HasPmt && (p.IsTelevision || p.IsRadio) && !_listedAtOpen.Contains(p.Number) && !_decoded.ContainsKey(p.Number)
                    && owner.Wanted(p.Number) && owner._reconnectedFor.Add(p.Number))
                    return p.Number;
            return null;
        }

        /// <summary>The connection is over: every reader ends once read (with the failure, if any).</summary>
        public void End(Exception? failure)
        {
            lock (_gate)
                foreach (var reader in _readers.Values) reader.End(failure);
        }

        private static void Release(MediaItem item)
        {
            item.Video?.Release();
            item.Audio?.Release();
        }
    }
}
