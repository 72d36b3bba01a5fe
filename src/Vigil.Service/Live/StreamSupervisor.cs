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
/// media has arrived for the stall time (whatever the connection is doing) and closes it when media
/// flows again. Events carry stream time (<see cref="StreamTimeline"/>), so they stay monotonic across
/// reconnects and restarts.
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
    private StreamTimeline _timeline = null!;
    private Task? _run;

    private StreamState _state = StreamState.Starting;
    private string? _lastError;
    private long _connections, _framesDone, _shedDone;
    private StreamAnalyzer? _analyzer;
    private ConnectionProgress? _progress;
    private MediaSummary? _media;
    private double _fps;
    private long _lastMediaTicks;                  // Stopwatch ticks of the latest item; 0 before any
    private double? _stallStart;                   // stream time the open stall began at
    private volatile bool _connectionHadMedia;     // the current connection delivered something: backoff starts over
    private double? _resumedAt;                    // during a stall: stream time media came back at

    /// <summary>Media must flow this long (media time) after a stall before the stall is over.</summary>
    private const double ResumeSeconds = 0.5;

    public StreamSupervisor(StreamConfig config, ServiceOptions options, IEventPublisher hub, IServiceStore store, InputPolicy inputs, ILogger log,
        bool reportsStall = true)
    {
        Config = config;
        _options = options;
        _hub = hub;
        _store = store;
        _inputs = inputs;
        _log = log;
        _reportsStall = reportsStall;
        Picture = new LivePicture(TimeSpan.FromSeconds(options.ThumbnailSeconds));
        Meters = new LiveMeters(config.Epoch);
    }

    /// <summary>False for a fleet's detector group that leaves <c>stream.stall</c> to another group of the stream.</summary>
    private readonly bool _reportsStall;

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
                    _framesDone + (analyzer?.VideoFrames ?? 0), _shedDone + (analyzer?.ShedFrames ?? 0),
                    Math.Round(_fps, 2), Math.Round(_progress?.Lag ?? 0, 3), Math.Round(_timeline?.Reached ?? 0, 3),
                    new Dictionary<string, long>(_defects), _media) { Meters = Meters.Latest };
            }
        }
    }

    /// <summary>Starts monitoring in the background.</summary>
    public void Start()
    {
        _timeline = new StreamTimeline(Config.Epoch, _store.GetPosition(Config.Id));
        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// Stops monitoring: the current analysis is interrupted and its detectors flushed, so every open
    /// defect (and an open stall) is closed with a <c>defect</c> event before this returns.
    /// </summary>
    public async Task StopAsync(StreamState final = StreamState.Stopped)
    {
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

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
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
            MediaSource? source = null;
            try
            {
                source = await OpenAsync(selected, stop);
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
                source?.Dispose();
            }
            if (stop.IsCancellationRequested) break;
            failures = _connectionHadMedia ? 0 : failures + 1;
            SetState(StreamState.Reconnecting);
            var delay = Backoff(failures);
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
        CloseStall(_timeline.Now);
        _store.SavePosition(Id, _timeline.Reached);
        await watchdog;
    }

    /// <summary>
    /// Opens the input off the caller's thread: opening blocks (up to the open timeout) and cannot be interrupted.
    /// The host is resolved and checked first (a name may point elsewhere now than when the stream was added).
    /// </summary>
    private async Task<MediaSource> OpenAsync(IReadOnlyList<DetectorDescriptor> selected, CancellationToken stop)
    {
        if (await _inputs.CheckNetworkAsync(Config.Url, stop) is { } refused) throw new MediaException(refused);
        var options = DetectorCatalog.DecodeFor(selected, new MediaOpenOptions
        {
            DecodeThreads = 1,
            IoTimeout = TimeSpan.FromSeconds(_options.StallSeconds),
            OpenTimeout = TimeSpan.FromSeconds(_options.OpenTimeoutSeconds),
        });
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

    /// <summary>One connection: analyse until the input ends, fails or stalls.</summary>
    private async Task AnalyseAsync(MediaSource source, IReadOnlyList<DetectorDescriptor> selected, DetectorSettings settings, CancellationToken stop)
    {
        _timeline.BeginConnection();
        lock (_gate) _resumedAt = null; // what the last connection drained does not count towards resuming
        var progress = new ConnectionProgress();
        var arrival = new ArrivalTap(OnMedia);
        var sink = new Sink(this, () => arrival.Latest);
        var detectors = DetectorCatalog.Create(selected, new DetectorContext(source.Info, sink, settings));
        Meters.BeginConnection();
        var analyzer = new StreamAnalyzer(source, detectors,
            new AnalyzerOptions { ShedWhenBehind = true, QueueCapacity = _options.QueueCapacity, ClosedByOnCancel = ClosedBy.Restart },
            [arrival, new LiveViewTap(Picture, Meters, _timeline), new ProgressTap(_timeline, progress)]);
        lock (_gate)
        {
            _analyzer = analyzer;
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
                _shedDone += analyzer.ShedFrames;
                _analyzer = null;
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
        double? closeAt = null;
        lock (_gate)
        {
            _lastMediaTicks = Stopwatch.GetTimestamp();
            _connectionHadMedia = true;
            if (_state != StreamState.Running) _state = StreamState.Running;
            if (_stallStart is not null)
            {
                var at = _timeline.Map(pts);
                if (_resumedAt is not { } from) _resumedAt = at;
                else if (at - from >= ResumeSeconds) closeAt = from;
            }
        }
        if (closeAt is { } end) CloseStall(end);
    }

    /// <summary>Every 250 ms: opens a stall when media stopped, samples fps, and saves the stream time reached.</summary>
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
                bool openStall;
                lock (_gate) openStall = _reportsStall && _lastMediaTicks != 0 && _stallStart is null && now - _lastMediaTicks >= stallTicks;
                if (openStall) OpenStall();

                if (now - sampleTicks >= Stopwatch.Frequency)
                {
                    var frames = Status.FramesAnalysed;
                    var fps = (frames - sampleFrames) / ((now - sampleTicks) / (double)Stopwatch.Frequency);
                    lock (_gate) _fps = _fps == 0 ? fps : 0.5 * _fps + 0.5 * fps;
                    (sampleTicks, sampleFrames) = (now, frames);
                }
                if (now - lastSave >= 2 * Stopwatch.Frequency)
                {
                    _store.SavePosition(Id, _timeline.Reached);
                    lastSave = now;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OpenStall()
    {
        lock (_events)
        {
            double start;
            lock (_gate)
            {
                if (_stallStart is not null) return;
                start = _timeline.Reached;
                _stallStart = start;
                _resumedAt = null;
            }
            _log.LogWarning("Stream {StreamId} stalled: no media for {Seconds} s", Id, _options.StallSeconds);
            Publish(new Defect(StallKind, start, null, 1.0), null);
        }
    }

    private void CloseStall(double end)
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
            _log.LogInformation("Stream {StreamId} media flows again after {Seconds:0.0} s", Id, end - start);
            Publish(new Defect(StallKind, start, Math.Max(start, end), 1.0), null);
        }
    }

    /// <summary>Stores and announces an event; the caller holds <see cref="_events"/>.</summary>
    private void Publish(Defect defect, string? snapshotId)
    {
        if (defect.End is null)
            lock (_gate) _defects[defect.Kind] = _defects.GetValueOrDefault(defect.Kind) + 1;
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
            info.Audio?.Codec, info.Audio?.SampleRate ?? 0, info.Audio?.Channels ?? 0);

    /// <summary>
    /// The detectors' sink for one connection: maps media time to stream time, takes the snapshot when a
    /// defect starts and links it from both of its events. Open defects are keyed by their identity
    /// (<see cref="DefectKey"/>): two channels going silent together are two defects with two snapshots.
    /// </summary>
    private sealed class Sink(StreamSupervisor owner, Func<VideoFrame?> latestFrame) : IDefectSink
    {
        private readonly Dictionary<DefectKey, (double Start, string? Snapshot)> _open = [];

        public void DefectStarted(Defect defect)
        {
            var start = owner._timeline.Map(defect.Start);
            var snapshot = TakeSnapshot();
            _open[defect.Key] = (start, snapshot);
            lock (owner._events) owner.Publish(defect with { Start = start }, snapshot);
        }

        public void DefectEnded(Defect defect)
        {
            var (start, snapshot) = _open.Remove(defect.Key, out var known)
                ? known
                : (owner._timeline.Map(defect.Start), null);
            var end = Math.Max(start, owner._timeline.Map(defect.End ?? defect.Start));
            lock (owner._events) owner.Publish(defect with { Start = start, End = end }, snapshot);
        }

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
