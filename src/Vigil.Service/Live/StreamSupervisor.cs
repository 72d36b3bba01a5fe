using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>
/// Keeps one live stream analysed for as long as it is monitored. <see cref="StreamAnalyzer.RunAsync"/>
/// runs to the end of its input; this loop wraps it: connect, analyse until the input ends, fails or
/// stalls, then reconnect with exponential backoff. A watchdog reports <c>stream.stall</c> when no
/// media has arrived for the stall time since monitoring started or since the last media, whatever the
/// connection is doing (never connected, garbage, a failing URL), and closes it when media flows again;
/// a stall open when the service stops stays open and the next run continues it (EVENTS.md).
/// Defects a crash left open (<c>kill -9</c>) are continued when the detectors find them again within
/// <see cref="ContinueSeconds"/> of media coming back, else closed with <c>closed_by: "restart"</c>.
/// Events carry stream time (<see cref="StreamTimeline"/>), so they stay monotonic across reconnects
/// and restarts.
/// </summary>
public sealed class StreamSupervisor : IAsyncDisposable
{
    public const string StallKind = "stream.stall";

    private readonly ServiceOptions _options;
    private readonly IEventPublisher _hub;
    private readonly IServiceStore _store;
    private readonly InputPolicy _inputs;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();          // status fields and the stall state
    private readonly Lock _events = new();        // one event of this stream at a time, in causal order
    private readonly Dictionary<string, long> _defects = new(StringComparer.Ordinal);
    private readonly Dictionary<DefectKey, string> _openNow = [];  // defects open now (their kind), by identity
    private StreamTimeline _timeline = null!;
    private Task? _run;

    private StreamState _state = StreamState.Starting;
    private string? _lastError;
    private long _connections, _framesDone, _shedDone;
    private StreamAnalyzer? _analyzer;
    private IMediaReader? _source;                 // the current connection's input (its own, or its programme of a shared multiplex)
    private Vigil.Transport.TransportAnalyzer? _transport; // the transport analysis of the current (or last) connection
    private readonly Dictionary<int, long[]> _transportDone = []; // TR 101 290 failures of the analyses before it, by programme
    private ConnectionProgress? _progress;
    private MediaSummary? _media;
    private double _fps;
    private long _lastMediaTicks;                  // Stopwatch ticks of the latest item; 0 before any
    private double? _stallStart;                   // stream time the open stall began at
    private volatile bool _connectionHadMedia;     // the current connection delivered something: backoff starts over
    private double? _resumedAt;                    // during a stall: stream time media came back at

    /// <summary>Media must flow this long (media time) after a stall before the stall is over.</summary>
    private const double ResumeSeconds = 0.5;

    /// <summary>
    /// How long after media comes back (or after the start, if it does not) a defect left open by a crash
    /// may be found again and continued: longer than any detector needs to confirm a defect by default
    /// (loudness: 10 s).
    /// </summary>
    public const double ContinueSeconds = 15;

    private readonly List<(Defect Defect, string? Snapshot)> _leftOpen = []; // a crash's open defects awaiting continuation
    private double _positionAtStart;               // stream time the previous run had saved
    private double _watchFrom;                     // stream time monitoring started at: a feed dead from the start stalls from here
    private long _startTicks;                      // Stopwatch ticks of the start
    private long _firstMediaTicks;                 // of this run's first media; 0 before any
    private long _lastDecodedTicks;                // when a finished connection's converter last handed out media
    private long _stallTicks;                      // when the open stall was raised (0: adopted from the previous run)

    /// <param name="leftOpen">
    /// Defects of this stream the previous run left open, to take over (<c>vigil serve</c> alone: its last run
    /// was this process's own, stopped or killed); a fleet passes none, its failover continuity does that.
    /// </param>
    /// <param name="reportsStall">False for a fleet's detector group that leaves <c>stream.stall</c> to another group.</param>
    /// <param name="feed">A programme stream (<see cref="StreamConfig.Parent"/>): the shared receive of its multiplex, which it reads its programme from.</param>
    public StreamSupervisor(StreamConfig config, ServiceOptions options, IEventPublisher hub, IServiceStore store, InputPolicy inputs, ILogger log,
        bool reportsStall = true, IReadOnlyList<StoredEvent>? leftOpen = null, MultiplexFeed? feed = null)
    {
        _feed = feed;
        Config = config;
        _options = options;
        _hub = hub;
        _store = store;
        _inputs = inputs;
        _log = log;
        _reportsStall = reportsStall;
        Picture = new LivePicture(TimeSpan.FromSeconds(options.ThumbnailSeconds));
        Meters = new LiveMeters(config.Epoch);
        _takeOver = leftOpen ?? [];
    }

    private readonly MultiplexFeed? _feed;                 // a programme stream: its multiplex's shared receive
    private readonly bool _reportsStall;                   // false: another group of the fleet reports stream.stall
    private readonly IReadOnlyList<StoredEvent> _takeOver; // what the previous run left open (Start takes it over)

    /// <summary>The latest picture, as a thumbnail on demand (the dashboard's mosaic).</summary>
    public LivePicture Picture { get; }

    /// <summary>Audio meters and the last hour of loudness, across reconnects.</summary>
    public LiveMeters Meters { get; }

    public StreamConfig Config { get; }

    public string Id => Config.Id;

    public StreamStatus Status
    {
        get
        {
            lock (_gate)
            {
                var analyzer = _analyzer;
                return new StreamStatus(_state, _stallStart is not null, _lastError, _connections,
                    _framesDone + (analyzer?.VideoFrames ?? 0), _shedDone + (analyzer?.ShedFrames ?? 0) + ((_source as ProgramReader)?.ShedFrames ?? 0),
                    Math.Round(_fps, 2), Math.Round(_progress?.Lag ?? 0, 3), Math.Round(_timeline?.Reached ?? 0, 3),
                    new Dictionary<string, long>(_defects), _media)
                {
                    Meters = Meters.Latest,
                    TransportErrors = TransportErrors(),
                    OpenDefects = _openNow.Values.GroupBy(k => k, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
                };
            }
        }
    }

    /// <summary>
    /// Starts monitoring in the background. What the previous run left open is taken over: a stall goes on
    /// as this run's stall (until media flows), other defects wait for their detectors to find them again.
    /// </summary>
    public void Start()
    {
        _positionAtStart = _store.GetPosition(PositionKey);
        _timeline = new StreamTimeline(Config.Epoch, _positionAtStart);
        _watchFrom = _timeline.Now;
        _startTicks = Stopwatch.GetTimestamp();
        foreach (var open in _takeOver)
        {
            var defect = EventJson.ParseDefect(open.Json);
            if (defect.Kind == StallKind && _stallStart is null)
            {
                _stallStart = defect.Start;
                _openNow[defect.Key] = defect.Kind;
            }
            else _leftOpen.Add((defect, open.SnapshotId));
        }
        if (_stallStart is { } stall) _log.LogInformation("Stream {StreamId}: the stall open since {Start:0.0} goes on until media flows", Id, stall);
        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// Stops monitoring: the current analysis is interrupted and its detectors flushed, so every open
    /// defect is closed with a <c>defect</c> event before this returns (<c>closed_by: "restart"</c>).
    /// An open stall stays open when <paramref name="stallGoesOn"/> (the service stops or the stream's
    /// pipeline restarts: the next run continues it), else it closes now (<c>closed_by: "end_of_input"</c>).
    /// </summary>
    public async Task StopAsync(StreamState final = StreamState.Stopped, bool stallGoesOn = false)
    {
        _stallGoesOn = stallGoesOn;
        await _stop.CancelAsync();
        if (_run is not null)
        {
            try
            {
                await _run;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Stream {StreamId} pipeline failed while stopping", Id);
            }
        }
        lock (_gate) _state = final;
    }

    private volatile bool _stallGoesOn;

    public async ValueTask DisposeAsync()
    {
        await StopAsync(stallGoesOn: _stallGoesOn);
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var (selected, settings) = DetectorSetup.Build(Config);
        var watchdog = WatchAsync(stop);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            SetState(StreamState.Connecting);
            _connectionHadMedia = false;
            IMediaReader? source = null;
            try
            {
                source = await OpenAsync(selected, settings, stop);
                await AnalyseAsync(source, selected, settings, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (MediaException e)
            {
                lock (_gate) _lastError = e.Message;
                _log.LogWarning("Stream {StreamId} input failed: {Reason}", Id, e.Message);
            }
            catch (Exception e)
            {
                // a bug must not end monitoring: log it and start over with fresh detectors
                lock (_gate) _lastError = e.Message;
                _log.LogError(e, "Stream {StreamId} pipeline failed", Id);
            }
            finally
            {
                (source as IDisposable)?.Dispose();
            }
            if (stop.IsCancellationRequested) break;
            failures = _connectionHadMedia ? 0 : failures + 1;
            SetState(StreamState.Reconnecting);
            var delay = _feed is null ? Backoff(failures) : TimeSpan.Zero; // the multiplex's receive backs off itself
            _log.LogInformation("Stream {StreamId} reconnecting in {DelaySeconds:0.0} s (attempt {Attempt})", Id, delay.TotalSeconds, failures + 1);
            try
            {
                await Task.Delay(delay, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await watchdog;
        if (!_stallGoesOn) CloseStall(_timeline.Now, ClosedBy.EndOfInput);
        CloseLeftOpen();
        _store.SavePosition(PositionKey, _timeline.Reached);
    }

    /// <summary>
    /// Where the stream time reached is saved: a programme stream's in its multiplex stream's row, which the
    /// programmes share (stream time counts wall-clock seconds since the one epoch they share).
    /// </summary>
    private string PositionKey => Config.Parent ?? Config.Id;

    /// <summary>
    /// Opens the input off the caller's thread: opening blocks (up to the open timeout) and cannot be interrupted.
    /// The host is resolved and checked first (a name may point elsewhere now than when the stream was added).
    /// </summary>
    private async Task<IMediaReader> OpenAsync(IReadOnlyList<DetectorDescriptor> selected, DetectorSettings settings, CancellationToken stop)
    {
        if (_feed is not null) return await _feed.ConnectAsync(Config.Program!.Value, stop);
        if (await _inputs.CheckNetworkAsync(Config.Url, stop) is { } refused) throw new MediaException(refused);
        var options = DetectorCatalog.DecodeFor(selected, OpenOptions(_options, Config.Program), settings);
        var opening = Task.Run(() => MediaSource.Open(Config.Url, options), CancellationToken.None);
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

    /// <summary>How a live input is opened: one decode thread, timeouts from the options; a programme of a multiplex alone when one is named.</summary>
    internal static MediaOpenOptions OpenOptions(ServiceOptions options, int? program) => new()
    {
        DecodeThreads = 1,
        IoTimeout = TimeSpan.FromSeconds(options.StallSeconds),
        OpenTimeout = TimeSpan.FromSeconds(options.OpenTimeoutSeconds),
        Programs = program is { } p ? [p] : null,
    };

    /// <summary>One connection: analyse until the input ends, fails or stalls.</summary>
    private async Task AnalyseAsync(IMediaReader source, IReadOnlyList<DetectorDescriptor> selected, DetectorSettings settings, CancellationToken stop)
    {
        _timeline.BeginConnection();
        lock (_gate) _resumedAt = null; // what the last connection drained does not count towards resuming
        var progress = new ConnectionProgress();
        var arrival = new ArrivalTap(OnMedia, () => OnCodecChange(source));
        IDefectSink sink = new Sink(this, () => arrival.Latest);
        // a programme of a multiplex: its defects say so (ts.* say which programme, if any, themselves)
        if ((Config.Program ?? source.Info.Program) is not 0 and var program) sink = new ProgramSink(program, sink);
        var detectors = DetectorCatalog.Create(selected, new DetectorContext(source.Info, sink, settings));
        Meters.BeginConnection();
        // a programme of a shared receive is analysed on its own thread behind the receive's queue, which sheds for it
        var analyzer = new StreamAnalyzer(source, detectors,
            new AnalyzerOptions { ShedWhenBehind = _feed is null, QueueCapacity = _options.QueueCapacity, ClosedByOnCancel = ClosedBy.Restart },
            [arrival, new LiveViewTap(Picture, Meters, _timeline), new ProgressTap(_timeline, progress)]);
        lock (_gate)
        {
            _analyzer = analyzer;
            _source = source;
            // a programme stream that attaches again to the same receive goes on with its analysis: counted once
            var transport = source is ProgramReader reader ? reader.SharedTransport : source.Transport;
            if (!ReferenceEquals(transport, _transport))
            {
                AddCounts(_transportDone, _transport);
                _transport = transport;
            }
            _progress = progress;
            _connections++;
            _media = Summarise(source.Info);
        }
        _log.LogInformation("Stream {StreamId} connected: {Format} {Width}x{Height} {Fps} fps", Id, source.Info.Format,
            source.Info.Video?.Width ?? 0, source.Info.Video?.Height ?? 0, source.Info.Video?.Fps ?? 0);
        try
        {
            // whatever ends it, RunAsync has closed what the detectors had open at the last media time
            await analyzer.RunAsync(stop);
            if (!stop.IsCancellationRequested) lock (_gate) _lastError = "input ended";
        }
        finally
        {
            lock (_gate)
            {
                _framesDone += analyzer.VideoFrames;
                _shedDone += analyzer.ShedFrames + ((source as ProgramReader)?.ShedFrames ?? 0);
                _lastDecodedTicks = Math.Max(_lastDecodedTicks, source.LastMediaTicks);
                _analyzer = null;
                _source = null;
            }
        }
    }

    /// <summary>
    /// Media arrived (detector thread): running again. An open stall ends where media resumed, once it has
    /// flowed for <see cref="ResumeSeconds"/>: a decoder draining its last frames after the input went
    /// quiet is not the stream coming back.
    /// </summary>
    private void OnMedia(double pts)
    {
        _timeline.Arrive(pts); // before any detector maps a defect onto it: event times never lie in the future
        double? closeAt = null;
        lock (_gate)
        {
            _lastMediaTicks = Stopwatch.GetTimestamp();
            if (_firstMediaTicks == 0) _firstMediaTicks = _lastMediaTicks;
            _connectionHadMedia = true;
            if (_state != StreamState.Running) _state = StreamState.Running;
            // while stalled, only media the converter handed out after the stall began counts: what the analysis
            // still drains from its queue was there before
            if (_stallStart is not null && (_source?.LastMediaTicks ?? 0) > _stallTicks)
            {
                var at = _timeline.Map(pts);
                if (_resumedAt is not { } from) _resumedAt = at;
                else if (at - from >= ResumeSeconds) closeAt = from;
            }
        }
        if (closeAt is { } end) CloseStall(end);
    }

    /// <summary>
    /// The TR 101 290 failures of every connection so far (the caller holds <see cref="_gate"/>), by programme, of
    /// what this stream reports: a stream naming a programme (or one of a shared multiplex) those of the multiplex
    /// as a whole and of its own PMT and PIDs, any other stream all of them. Null before a transport stream was read.
    /// </summary>
    private Dictionary<int, long[]>? TransportErrors()
    {
        if (_transport is not { IsTransportStream: true } && _transportDone.Count == 0) return null; // not (yet) a transport stream
        var all = new Dictionary<int, long[]>();
        AddCounts(all, _transportDone);
        AddCounts(all, _transport);
        if (Config.Program is { } mine)
        {
            foreach (var other in all.Keys.Where(p => p != 0 && p != mine).ToList()) all.Remove(other);
            all.TryAdd(mine, new long[Vigil.Transport.Indicators.Count]);
        }
        all.TryAdd(0, new long[Vigil.Transport.Indicators.Count]); // counters exist from the start, at 0
        return all;
    }

    private static void AddCounts(Dictionary<int, long[]> into, Vigil.Transport.TransportAnalyzer? analyzer)
    {
        if (analyzer is not { IsTransportStream: true }) return;
        AddCounts(into, analyzer.CountsByProgram());
        into.TryAdd(0, new long[Vigil.Transport.Indicators.Count]); // a transport stream, even a clean one, has counters
    }

    private static void AddCounts(Dictionary<int, long[]> into, IReadOnlyDictionary<int, long[]> counts)
    {
        foreach (var (program, add) in counts)
        {
            if (!into.TryGetValue(program, out var sum)) into[program] = sum = new long[add.Length];
            for (var i = 0; i < add.Length; i++) sum[i] += add[i];
        }
    }

    /// <summary>A new decoder took over (analysis thread): the status says what the input carries now.</summary>
    private void OnCodecChange(IMediaReader source)
    {
        var media = Summarise(source.Info);
        lock (_gate) _media = media;
        _log.LogInformation("Stream {StreamId}: codec changed, now video {Video} audio {Audio}", Id, media.VideoCodec ?? "none", media.AudioCodec ?? "none");
    }

    /// <summary>
    /// Every 250 ms: opens a stall when no media came for the stall time (since the last media, or since the
    /// start when none came), closes what a crash left open once it can no longer be continued, samples fps,
    /// and saves the stream time reached.
    /// </summary>
    private async Task WatchAsync(CancellationToken stop)
    {
        var stallTicks = (long)(_options.StallSeconds * Stopwatch.Frequency);
        var sampleTicks = Stopwatch.GetTimestamp();
        var sampleFrames = 0L;
        var lastSave = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = Stopwatch.GetTimestamp();
                bool openStall, giveUpLeftOpen;
                double idle;
                lock (_gate)
                {
                    // media counts when the converter hands it out, not when the analysis behind a queue gets to it:
                    // a stall is about the feed, and a lagging analysis must not delay the alert (the detector
                    // thread's own arrivals, _lastMediaTicks, would: it drains seconds of queue after the feed died)
                    var lastMedia = Math.Max(_lastDecodedTicks, _source?.LastMediaTicks ?? 0);
                    idle = (now - Math.Max(lastMedia, _startTicks)) / (double)Stopwatch.Frequency;
                    openStall = _reportsStall && _stallStart is null && now - Math.Max(lastMedia, _startTicks) >= stallTicks;
                    giveUpLeftOpen = _leftOpen.Count > 0
                        && now - (_firstMediaTicks != 0 ? _firstMediaTicks : _startTicks) >= ContinueSeconds * Stopwatch.Frequency;
                }
                if (openStall) OpenStall(idle);
                if (giveUpLeftOpen) CloseLeftOpen();

                if (now - sampleTicks >= Stopwatch.Frequency)
                {
                    var frames = Status.FramesAnalysed;
                    var fps = (frames - sampleFrames) / ((now - sampleTicks) / (double)Stopwatch.Frequency);
                    lock (_gate) _fps = _fps == 0 ? fps : 0.5 * _fps + 0.5 * fps;
                    (sampleTicks, sampleFrames) = (now, frames);
                }
                if (now - lastSave >= 2 * Stopwatch.Frequency)
                {
                    _store.SavePosition(PositionKey, _timeline.Reached);
                    lastSave = now;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OpenStall(double idle)
    {
        lock (_events)
        {
            double start;
            lock (_gate)
            {
                if (_stallStart is not null) return;
                // from the last media of this run, where the converter handed it out (the analysis may still be
                // working through the queue before it); a feed that gave none stalls from when monitoring started
                var converted = _analyzer?.Converted ?? double.NaN;
                start = !double.IsNaN(converted) ? Math.Max(_timeline.Reached, _timeline.Map(converted))
                    : _lastMediaTicks != 0 || _lastDecodedTicks != 0 ? _timeline.Reached
                    : Math.Max(_watchFrom, _timeline.Reached);
                _stallStart = start;
                _stallTicks = Stopwatch.GetTimestamp();
                _resumedAt = null;
            }
            _log.LogWarning("Stream {StreamId} stalled: no media for {Seconds:0.0} s (stall time {StallSeconds} s)", Id, idle, _options.StallSeconds);
            Publish(new Defect(StallKind, start, null, 1.0), null);
        }
    }

    /// <summary>Closes the open stall at <paramref name="end"/>: media flows again, or the monitor stops watching (<paramref name="closedBy"/>).</summary>
    private void CloseStall(double end, string? closedBy = null)
    {
        lock (_events)
        {
            double start;
            lock (_gate)
            {
                if (_stallStart is not { } s) return;
                start = s;
                _stallStart = null;
                _resumedAt = null;
            }
            if (closedBy is null) _log.LogInformation("Stream {StreamId} media flows again after {Seconds:0.0} s", Id, end - start);
            var stall = new Defect(StallKind, start, Math.Max(start, end), 1.0);
            Publish(closedBy is null ? stall : stall.ClosedByMonitor(closedBy), null);
        }
    }

    /// <summary>
    /// A defect the detectors found again after a restart: the one the crash left open with the same
    /// identity but its start (kind, stream, programme, channel), which then goes on; null when there is none.
    /// </summary>
    private (Defect Defect, string? Snapshot)? TakeLeftOpen(Defect found)
    {
        lock (_gate)
        {
            var i = _leftOpen.FindIndex(o => o.Defect.Kind == found.Kind && o.Defect.Stream == found.Stream
                && o.Defect.Program == found.Program && o.Defect.Channel == found.Channel);
            if (i < 0) return null;
            var previous = _leftOpen[i];
            _leftOpen.RemoveAt(i);
            return previous;
        }
    }

    /// <summary>
    /// Closes what a crash left open and the detectors did not find again: at the position the previous run
    /// saved last (its real end is unknown, it may look shorter than its kind's minimum), saying so with
    /// <c>closed_by: "restart"</c>.
    /// </summary>
    private void CloseLeftOpen()
    {
        lock (_events)
        {
            List<(Defect Defect, string? Snapshot)> stale;
            lock (_gate)
            {
                stale = [.. _leftOpen];
                _leftOpen.Clear();
            }
            foreach (var (defect, snapshot) in stale)
            {
                _log.LogInformation("Stream {StreamId}: {Kind} left open by the previous run is over", Id, defect.Kind);
                Publish((defect with { End = Math.Max(defect.Start, _positionAtStart) }).ClosedByMonitor(ClosedBy.Restart), snapshot);
            }
        }
    }

    /// <summary>Stores and announces an event; the caller holds <see cref="_events"/>.</summary>
    private void Publish(Defect defect, string? snapshotId)
    {
        // a programme's stall is on that programme (the detectors' defects say so already, ProgramSink)
        if (defect.Kind == StallKind && Config.Program is { } program) defect = defect with { Program = program };
        lock (_gate)
        {
            if (defect.End is not null) _openNow.Remove(defect.Key);
            else
            {
                _defects[defect.Kind] = _defects.GetValueOrDefault(defect.Kind) + 1;
                _openNow[defect.Key] = defect.Kind;
            }
        }
        _hub.Publish(Id, Config.Epoch, defect, snapshotId);
    }

    private void SetState(StreamState state)
    {
        lock (_gate) _state = state;
    }

    private TimeSpan Backoff(int failures)
    {
        var seconds = Math.Min(_options.ReconnectMaxSeconds, _options.ReconnectMinSeconds * Math.Pow(2, Math.Min(failures, 20)));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble())); // jitter: streams of one dead origin do not reconnect in step
    }

    private static MediaSummary Summarise(MediaInfo info) =>
        new(info.Format, info.Video?.Codec, info.Video?.Width ?? 0, info.Video?.Height ?? 0, info.Video?.Fps ?? 0,
            info.Audio?.Codec, info.Audio?.SampleRate ?? 0, info.Audio?.Channels ?? 0)
        {
            Program = info.Program != 0 ? info.Program : null,
            ServiceName = info.ServiceName,
        };

    /// <summary>
    /// The detectors' sink for one connection: maps media time to stream time, takes the snapshot when a
    /// defect starts and links it from both of its events. Open defects are keyed by their identity
    /// (<see cref="DefectKey"/>): two channels going silent together are two defects with two snapshots.
    /// </summary>
    private sealed class Sink(StreamSupervisor owner, Func<VideoFrame?> latestFrame) : IDefectSink
    {
        // stream time and snapshot of each open defect, and its start in media time (NaN: continued from before a crash)
        private readonly Dictionary<DefectKey, (double Start, string? Snapshot, double MediaStart)> _open = [];

        public void DefectStarted(Defect defect)
        {
            lock (owner._events)
            {
                // the same defect as one a crash left open: it goes on, under its first start and snapshot
                if (owner.TakeLeftOpen(defect) is var (previous, previousSnapshot))
                {
                    _open[defect.Key] = (previous.Start, previousSnapshot, double.NaN);
                    lock (owner._gate) owner._openNow[previous.Key] = previous.Kind;
                    owner._log.LogInformation("Stream {StreamId}: {Kind} open before the restart goes on", owner.Id, defect.Kind);
                    return;
                }
                var start = At(defect.Start);
                var snapshot = TakeSnapshot();
                _open[defect.Key] = (start, snapshot, defect.Start);
                owner.Publish(defect with { Start = start }, snapshot);
            }
        }

        /// <summary>
        /// The end keeps the defect's length in media time: the connection's offset may have moved back
        /// since its start (<see cref="StreamTimeline.Arrive"/>), which must not shorten it. One continued
        /// across a crash ends where its end maps now.
        /// </summary>
        public void DefectEnded(Defect defect)
        {
            var mediaEnd = defect.End ?? defect.Start;
            var (start, snapshot, mediaStart) = _open.Remove(defect.Key, out var known)
                ? known
                : (At(defect.Start), null, defect.Start);
            var end = Math.Max(start, double.IsNaN(mediaStart) ? At(mediaEnd) : start + (mediaEnd - mediaStart));
            lock (owner._events) owner.Publish(defect with { Start = start, End = end }, snapshot);
        }

        /// <summary>
        /// Stream time of a detector's media time, never later than the arrival of the item it was found on:
        /// media maps no later than it arrived (<see cref="StreamTimeline.Arrive"/>) except in a connection's
        /// first burst, and a bitstream event carries the timestamp of the packet it is about, which for a
        /// corrupt packet can be anything.
        /// </summary>
        private double At(double mediaTime) => Math.Min(owner._timeline.Map(mediaTime), owner._timeline.LastArrival);

        private string? TakeSnapshot()
        {
            if (latestFrame() is not { } frame) return null;
            try
            {
                var jpeg = JpegEncoder.EncodeGray(frame.Luma, frame.Width, frame.Height);
                var id = Guid.NewGuid().ToString("N");
                owner._store.PutSnapshot(id, owner.Id, jpeg);
                return id;
            }
            catch (MediaException e)
            {
                owner._log.LogWarning("Stream {StreamId}: snapshot failed: {Reason}", owner.Id, e.Message);
                return null;
            }
        }
    }
}
