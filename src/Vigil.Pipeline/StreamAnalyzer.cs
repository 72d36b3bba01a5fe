using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Vigil.Detectors;
using Vigil.Detectors.Audio.Loudness;
using Vigil.Events;
using Vigil.Media;

namespace Vigil.Pipeline;

/// <summary>
/// Runs one input through its detectors on a converter thread that decodes into pooled frames.
/// Without <see cref="AnalyzerOptions.ShedWhenBehind"/> (files, and the CLI on a live URL) that same
/// thread runs the detectors on each frame as it comes out of the decoder: the picture is still in
/// that core's cache, and no thread is woken per frame (a hand-off to a second thread cost ~8 % more
/// CPU per frame at 720p: wake-ups, and the decoder losing its cache when moved between cores).
/// With it (live, in the service) frames go, in memory, through a bounded channel to a detector loop
/// so the input keeps being read while detectors work; once the queue is three-quarters full video
/// frames are dropped and counted, so one slow stream never delays the others. Audio and events are
/// never shed: they are cheap, and losing them would fake silence or hide errors. Either way memory
/// stays flat on an input of any length: frames are pooled and the queue is bounded.
/// <para>
/// The converter maps every timestamp through one <see cref="Timeline"/>; its breaks reach the
/// detectors (<see cref="IDetector.OnDiscontinuity"/>) in order with the media. Detectors are ticked
/// as media time passes (<see cref="IDetector.Tick"/>) and flushed at whatever ends the input (its end,
/// a failure, cancellation), at the last media time analysed. Observers
/// (<see cref="IAnalysisObserver"/>) see each item before and after the detectors, and the end.
/// </para>
/// </summary>
public sealed class StreamAnalyzer
{
    private readonly IMediaReader _source;
    private MediaInfo _info;                  // what this analysis sees: the input, or one programme of a multiplex (as it is now)
    private readonly IDetector[] _detectors;
    private readonly IVideoDetector[] _video;
    private readonly IAudioDetector[] _audio;
    private readonly IMediaEventDetector[] _events;
    private readonly ITransportDetector[] _transport;
    private readonly IAnalysisObserver[] _observers;
    private readonly AnalyzerOptions _options;
    private readonly LoudnessMeter? _loudness; // whole-input loudness for the summary, heard by the loudness detectors
    private long _videoFrames, _audioBlocks, _corruptPackets, _decodeErrors, _discontinuities, _shed;
    private double _endOfMedia;
    private double _videoReached = double.NaN, _audioReached = double.NaN;
    private double _nextTick = double.NegativeInfinity;
    private int _lastWidth, _lastHeight;
    private readonly Timeline _timeline = new();
    private readonly double _fps;
    private readonly Stopwatch _clock = new();
    private bool _stopped;          // pushed: the duration asked for is reached

    /// <param name="source">The opened input (the converter, or a replay of its items).</param>
    /// <param name="detectors">The detectors to feed (built for <paramref name="source"/>).</param>
    /// <param name="options">Buffering and limits; defaults analyse a file to its end.</param>
    /// <param name="observers">What watches the analysis besides the detectors.</param>
    public StreamAnalyzer(IMediaReader source, IReadOnlyList<IDetector> detectors, AnalyzerOptions? options = null,
        IReadOnlyList<IAnalysisObserver>? observers = null)
        : this(source, source.Info, detectors, options, observers)
    {
    }

    /// <summary>The analysis of one programme of <paramref name="source"/>, fed by a <see cref="MultiplexAnalyzer"/>.</summary>
    internal StreamAnalyzer(IMediaReader source, MediaInfo program, IReadOnlyList<IDetector> detectors, AnalyzerOptions? options,
        IReadOnlyList<IAnalysisObserver>? observers)
    {
        _source = source;
        _info = program;
        _fps = program.Video?.Fps is > 0 and var f ? f : 25;
        _detectors = detectors.ToArray();
        _video = detectors.OfType<IVideoDetector>().ToArray();
        _audio = detectors.OfType<IAudioDetector>().ToArray();
        _events = detectors.OfType<IMediaEventDetector>().ToArray();
        _transport = detectors.OfType<ITransportDetector>().ToArray();
        _observers = observers?.ToArray() ?? [];
        _options = options ?? new AnalyzerOptions();
        var listeners = detectors.OfType<ILoudnessDetector>().ToArray();
        if ((_options.MeasureLoudness || listeners.Length > 0) && program.Audio is { } audio)
        {
            // the summary's meter also measures true peak and keeps the integration window
            _loudness = new LoudnessMeter(audio.SampleRate, audio.Channels,
                _options.MeasureLoudness ? null : new LoudnessMeterOptions { TruePeak = false, WindowSeconds = 0 });
            foreach (var listener in listeners) _loudness.AddObserver(listener);
        }
    }

    /// <summary>Video frames analysed so far.</summary>
    public long VideoFrames => Interlocked.Read(ref _videoFrames);

    /// <summary>Analysis frames dropped because the detectors fell behind (live mode only).</summary>
    public long ShedFrames => Interlocked.Read(ref _shed);

    /// <summary>Media time reached, in seconds.</summary>
    public double Position => Volatile.Read(ref _endOfMedia);

    /// <summary>
    /// Media time the converter has handed on (the end of its latest picture or audio block, shed pictures
    /// included), in seconds; NaN before any. Ahead of <see cref="Position"/> by what waits in the queue for the
    /// detectors: where the input is, while <see cref="Position"/> is where the analysis is. Thread-safe.
    /// </summary>
    public double Converted => Volatile.Read(ref _converted);

    private double _converted = double.NaN;

    private void Converting(double end)
    {
        if (!double.IsNaN(end) && !(end <= _converted)) Volatile.Write(ref _converted, end); // NaN before the first: always taken
    }

    /// <summary>
    /// Analyses to the end of the input (or cancellation). Whatever ends it, every detector is flushed
    /// first (defects still open are closed with <c>details.closed_by</c>); then a converter failure
    /// surfaces as <see cref="MediaException"/>.
    /// </summary>
    public async Task<AnalysisSummary> RunAsync(CancellationToken cancellation = default)
    {
        _clock.Start();
        Exception? failure = null;
        using (cancellation.Register(_source.Interrupt))
        {
            try
            {
                if (_options.ShedWhenBehind) await RunQueuedAsync(cancellation).ConfigureAwait(false);
                else await RunInlineAsync(cancellation).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        // the converter has stopped: what the transport analyser still has to say is analysed here
        foreach (var item in _source.FinishTransport()) PushFinal(item);
        var summary = Finish(failure, cancellation.IsCancellationRequested);
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
        return summary;
    }

    /// <summary>Pushed mode: before the first <see cref="Push"/>.</summary>
    internal void Begin() => _clock.Start();

    /// <summary>
    /// Pushed mode (a programme of a multiplex, read by its <see cref="MultiplexAnalyzer"/>): maps and analyses one
    /// item on the calling thread. False once the duration asked for is reached: the item was released.
    /// </summary>
    internal bool Push(MediaItem item)
    {
        if (_stopped)
        {
            Release(item);
            return false;
        }
        _stopped = !Convert(item, work => { Dispatch(work); return true; }, () => false);
        return !_stopped;
    }

    /// <summary>After the media: a transport finding (or lost packets) the analyser gave at its end, analysed even past the duration asked for.</summary>
    internal void PushFinal(MediaItem item)
    {
        if (item.Kind is MediaItemKind.Transport or MediaItemKind.Event) Convert(item, work => { Dispatch(work); return true; }, () => false);
        else Release(item);
    }

    /// <summary>
    /// The end, whatever caused it: every detector flushed (defects still open are closed with
    /// <c>details.closed_by</c>), the observers told, and the summary.
    /// </summary>
    internal AnalysisSummary Finish(Exception? failure, bool cancelled)
    {
        var reason = failure is not null ? EndReason.Error : cancelled ? EndReason.Cancelled : EndReason.EndOfInput;
        var closedBy = reason switch
        {
            EndReason.Error => ClosedBy.Error,
            EndReason.Cancelled => _options.ClosedByOnCancel,
            _ => ClosedBy.EndOfInput,
        };
        foreach (var detector in _detectors) detector.Flush(_endOfMedia, closedBy);
        var end = new AnalysisEnd(reason, _endOfMedia, failure);
        foreach (var observer in _observers) observer.OnEnd(end);

        // a live stream joined before its parameter sets were seen probes as 0×0: report what was decoded
        var media = _info.Video is { Width: 0 } v && _lastWidth > 0
            ? _info with { Video = v with { Width = _lastWidth, Height = _lastHeight } }
            : _info;
        return new AnalysisSummary(media, _endOfMedia, _videoFrames, _audioBlocks, _corruptPackets, _decodeErrors,
            _discontinuities, _shed, _clock.Elapsed.TotalSeconds)
        {
            Loudness = _audioBlocks > 0 && _options.MeasureLoudness ? _loudness?.Reading : null,
            Transport = _source.Transport is { IsTransportStream: true } t ? TransportCounts.Of(t, _info.Program) : null,
        };
    }

    /// <summary>Decodes and analyses on one thread; the caller's await completes when it is done.</summary>
    private Task RunInlineAsync(CancellationToken cancellation)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var converter = new Thread(() =>
        {
            var failure = Convert(work => { Dispatch(work); return true; }, () => false, cancellation);
            if (failure is null) done.SetResult();
            else done.SetException(failure);
        }) { IsBackground = true, Name = "vigil-analyzer" };
        converter.Start();
        return done.Task;
    }

    /// <summary>Decodes on a converter thread and analyses here, with a bounded, shedding queue between.</summary>
    private async Task RunQueuedAsync(CancellationToken cancellation)
    {
        var channel = Channel.CreateBounded<Work>(
            new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var shedAt = Math.Max(1, _options.QueueCapacity * 3 / 4);
        var converter = new Thread(() =>
            channel.Writer.TryComplete(Convert(work => Write(channel.Writer, work, cancellation), () => channel.Reader.Count >= shedAt, cancellation)))
            { IsBackground = true, Name = "vigil-converter" };
        converter.Start();
        try
        {
            await foreach (var work in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                Dispatch(work);
        }
        finally
        {
            converter.Join();
        }
    }

    /// <summary>
    /// Reads the input to its end, mapping timestamps onto one continuous timeline, and hands each item
    /// (and each break of the timeline, before the item after it) to <paramref name="emit"/> (false: stop).
    /// Video frames are dropped while <paramref name="behind"/>. Returns the converter's failure, or null
    /// at the end of the input or on cancellation.
    /// </summary>
    private Exception? Convert(Func<Work, bool> emit, Func<bool> behind, CancellationToken cancellation)
    {
        try
        {
            while (true)
            {
                var item = _source.Read();
                if (item.Kind == MediaItemKind.End || !Convert(item, emit, behind)) break;
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            return e;
        }
        return null;
    }

    /// <summary>Maps one item onto the timeline and emits it (and any break before it); false: stop here.</summary>
    private bool Convert(MediaItem item, Func<Work, bool> emit, Func<bool> behind)
    {
        if (item.Video is { } frame)
        {
            var step = _timeline.Map(MediaTrack.Video, frame.Pts, frame.Duration, 1 / _fps);
            (frame.Pts, frame.Duration) = (step.Pts, step.Duration);
            Converting(step.Pts + step.Duration);
            if (step.Break is { } broke) emit(new Work(default, broke));
            var stream = _info.Video!.StreamIndex;
            if (!double.IsNaN(step.Jump))
                emit(new Work(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.TimestampJump, stream, frame.Pts, step.Jump))));
            else if (step.Hole > Continuity.FrameGapFactor * frame.Duration)
                // frames are missing: dropped frames raise no decoder flag, only this gap
                emit(new Work(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.FrameGap, stream, frame.Pts - step.Hole, step.Hole))));
            if (behind())
            {
                Interlocked.Increment(ref _shed);
                frame.Release();
                return true;
            }
        }
        if (item.Audio is { } block)
        {
            var step = _timeline.Map(MediaTrack.Audio, block.Pts, block.Duration, block.Duration);
            block.Pts = step.Pts;
            Converting(step.Pts + block.Duration);
            if (step.Break is { } broke) emit(new Work(default, broke));
            if (!double.IsNaN(step.Jump))
                emit(new Work(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.TimestampJump, _info.Audio!.StreamIndex, block.Pts, step.Jump))));
        }
        if (_options.MaxDuration is { } limit && (item.Video?.Pts ?? item.Audio?.Pts) >= limit)
        {
            Release(item);
            return false;
        }
        if (item.Kind == MediaItemKind.Transport)
            item = item with { Transport = item.Transport with { Pts = TransportTime(item.Transport.Pts) } };
        if (item.Kind == MediaItemKind.Event)
        {
            var e = item.Event;
            // a codec change: the programme carries other codecs now (the summary says what it ended with)
            if (e.Kind == MediaEventKind.CodecChange) _info = _source.Programs.FirstOrDefault(p => p.Program == _info.Program) ?? _info;
            MediaTrack? track = e.StreamIndex == _info.Video?.StreamIndex ? MediaTrack.Video
                : e.StreamIndex == _info.Audio?.StreamIndex ? MediaTrack.Audio : null;
            if (e.Kind == MediaEventKind.CodecChange && track is { } changed) _timeline.CodecChanged(changed);
            item = item with { Event = e with { Pts = _timeline.MapEvent(track, e.Pts) } };
        }
        return emit(new Work(item));
    }

    /// <summary>
    /// Media time of a transport finding stamped on its programme's clock: mapped like the decoded track's
    /// timestamps, so a PCR gap lines up with the pictures around it. The analyser reads bytes a little ahead
    /// of the decoder, so a finding may precede the media mapped so far, but not by more than a timestamp jump:
    /// one that lands further off (a clock the pictures have not reached since a splice) or has no clock yet
    /// is placed at the media time reached.
    /// </summary>
    private double TransportTime(double raw)
    {
        MediaTrack? track = _info.Video is not null ? MediaTrack.Video : _info.Audio is not null ? MediaTrack.Audio : null;
        var reached = _timeline.MapEvent(null, double.NaN);
        if (double.IsNaN(raw)) return reached;
        var at = _timeline.MapEvent(track, raw);
        return Math.Abs(at - reached) > Continuity.ForwardJump ? reached : Math.Max(0, at);
    }

    private bool Write(ChannelWriter<Work> writer, Work work, CancellationToken cancellation)
    {
        while (!writer.TryWrite(work))
        {
            if (!writer.WaitToWriteAsync(cancellation).AsTask().GetAwaiter().GetResult())
            {
                Release(work.Item);
                return false;
            }
        }
        return true;
    }

    private void Dispatch(Work work)
    {
        if (work.Break is { } discontinuity)
        {
            foreach (var detector in _detectors) detector.OnDiscontinuity(discontinuity);
            return;
        }
        var item = work.Item;
        switch (item.Kind)
        {
            case MediaItemKind.Video:
            {
                var frame = item.Video!;
                (_lastWidth, _lastHeight) = (frame.SourceWidth, frame.SourceHeight);
                foreach (var observer in _observers) observer.BeforeVideo(frame);
                foreach (var detector in _video) detector.Process(frame);
                _videoFrames++;
                Reached(ref _videoReached, frame.Pts + frame.Duration);
                foreach (var observer in _observers) observer.AfterVideo(frame);
                frame.Release();
                break;
            }
            case MediaItemKind.Audio:
            {
                var block = item.Audio!;
                foreach (var observer in _observers) observer.BeforeAudio(block);
                _loudness?.Process(block); // loudness detectors hear of each 100 ms step from it
                foreach (var detector in _audio) detector.Process(block);
                Reached(ref _audioReached, block.Pts + block.Duration);
                _audioBlocks++;
                foreach (var observer in _observers) observer.AfterAudio(block);
                block.Release();
                break;
            }
            case MediaItemKind.Event:
            {
                if (item.Event.Kind == MediaEventKind.PacketCorrupt) _corruptPackets++;
                else if (item.Event.Kind == MediaEventKind.DecodeError) _decodeErrors++;
                else if (item.Event.Kind is MediaEventKind.TimestampJump or MediaEventKind.FrameGap) _discontinuities++;
                foreach (var detector in _events) detector.Process(item.Event);
                foreach (var observer in _observers) observer.OnMediaEvent(item.Event);
                break;
            }
            case MediaItemKind.Transport:
            {
                foreach (var detector in _transport) detector.Process(item.Transport);
                break;
            }
        }
        Tick();
    }

    private void Reached(ref double track, double time)
    {
        if (double.IsNaN(track) || time > track) track = time;
        if (time > _endOfMedia) Volatile.Write(ref _endOfMedia, time);
    }

    /// <summary>
    /// Ticks the detectors with the media time every delivering track has reached: the slowest track,
    /// unless it has been silent for <see cref="Continuity.StoppedTrack"/> (then time goes on without it).
    /// </summary>
    private void Tick()
    {
        double slowest, fastest;
        if (double.IsNaN(_videoReached) && double.IsNaN(_audioReached)) return;
        if (double.IsNaN(_videoReached)) slowest = fastest = _audioReached;
        else if (double.IsNaN(_audioReached)) slowest = fastest = _videoReached;
        else (slowest, fastest) = (Math.Min(_videoReached, _audioReached), Math.Max(_videoReached, _audioReached));
        var now = Math.Max(slowest, fastest - Continuity.StoppedTrack);
        if (now < _nextTick) return;
        _nextTick = now + Continuity.TickSeconds;
        foreach (var detector in _detectors) detector.Tick(now);
    }

    private static void Release(MediaItem item)
    {
        item.Video?.Release();
        item.Audio?.Release();
    }

    /// <summary>What the converter hands the detector side: a media item, or a break of the timeline.</summary>
    private readonly record struct Work(MediaItem Item, Discontinuity? Break = null);
}

/// <summary>How a <see cref="StreamAnalyzer"/> buffers between converter and detectors.</summary>
public sealed record AnalyzerOptions
{
    /// <summary>Items (frames, audio blocks) in flight between converter and detectors (queued, live mode only).</summary>
    public int QueueCapacity { get; init; } = 32;

    /// <summary>
    /// Live mode: detectors run behind a bounded queue, and video frames are dropped when they fall behind
    /// instead of waiting. Off (files): decode and analysis share one thread, with no queue.
    /// </summary>
    public bool ShedWhenBehind { get; init; }

    /// <summary>Stop after this much media time (live inputs never end by themselves); null: to the end.</summary>
    public double? MaxDuration { get; init; }

    /// <summary>Meter loudness (BS.1770 integrated, range, true peak) over the whole input for the summary.</summary>
    public bool MeasureLoudness { get; init; } = true;

    /// <summary><c>details.closed_by</c> of defects still open when the analysis is cancelled (<see cref="ClosedBy"/>).</summary>
    public string ClosedByOnCancel { get; init; } = ClosedBy.EndOfInput;
}
