using System.Diagnostics;
using System.Threading.Channels;
using Vigil.Detectors;
using Vigil.Detectors.Audio.Loudness;
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
/// </summary>
public sealed class StreamAnalyzer
{
    private readonly MediaSource _source;
    private readonly IReadOnlyList<IDetector> _detectors;
    private readonly IVideoDetector[] _video;
    private readonly IAudioDetector[] _audio;
    private readonly IMediaEventDetector[] _events;
    private readonly AnalyzerOptions _options;
    private readonly LoudnessMeter? _loudness; // whole-input loudness for the summary, shared with loudness detectors
    private long _videoFrames, _audioBlocks, _corruptPackets, _decodeErrors, _discontinuities, _shed;
    private double _endOfMedia;
    private int _lastWidth, _lastHeight;

    public StreamAnalyzer(MediaSource source, IReadOnlyList<IDetector> detectors, AnalyzerOptions? options = null)
    {
        _source = source;
        _detectors = detectors;
        _video = detectors.OfType<IVideoDetector>().ToArray();
        _audio = detectors.OfType<IAudioDetector>().ToArray();
        _events = detectors.OfType<IMediaEventDetector>().ToArray();
        _options = options ?? new AnalyzerOptions();
        if (_options.MeasureLoudness && source.Info.Audio is { } audio)
        {
            _loudness = new LoudnessMeter(audio.SampleRate, audio.Channels);
            foreach (var consumer in detectors.OfType<ILoudnessConsumer>()) consumer.UseMeter(_loudness);
        }
    }

    /// <summary>Video frames analysed so far.</summary>
    public long VideoFrames => Interlocked.Read(ref _videoFrames);

    /// <summary>Analysis frames dropped because the detectors fell behind (live mode only).</summary>
    public long ShedFrames => Interlocked.Read(ref _shed);

    /// <summary>Media time reached, in seconds.</summary>
    public double Position => Volatile.Read(ref _endOfMedia);

    /// <summary>Analyses to the end of the input. Converter failures surface as <see cref="MediaException"/>.</summary>
    public async Task<AnalysisSummary> RunAsync(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        using var stop = cancellation.Register(_source.Interrupt);
        if (_options.ShedWhenBehind) await RunQueuedAsync(cancellation).ConfigureAwait(false);
        else await RunInlineAsync(cancellation).ConfigureAwait(false);

        foreach (var detector in _detectors) detector.Flush(_endOfMedia);
        // a live stream joined before its parameter sets were seen probes as 0×0: report what was decoded
        var media = _source.Info.Video is { Width: 0 } v && _lastWidth > 0
            ? _source.Info with { Video = v with { Width = _lastWidth, Height = _lastHeight } }
            : _source.Info;
        return new AnalysisSummary(media, _endOfMedia, _videoFrames, _audioBlocks, _corruptPackets, _decodeErrors,
            _discontinuities, _shed, clock.Elapsed.TotalSeconds)
        {
            Loudness = _audioBlocks > 0 ? _loudness?.Reading : null,
        };
    }

    /// <summary>Decodes and analyses on one thread; the caller's await completes when it is done.</summary>
    private Task RunInlineAsync(CancellationToken cancellation)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var converter = new Thread(() =>
        {
            var failure = Convert(item => { Dispatch(item); return true; }, () => false, cancellation);
            if (failure is null) done.SetResult();
            else done.SetException(failure);
        }) { IsBackground = true, Name = "vigil-analyzer" };
        converter.Start();
        return done.Task;
    }

    /// <summary>Decodes on a converter thread and analyses here, with a bounded, shedding queue between.</summary>
    private async Task RunQueuedAsync(CancellationToken cancellation)
    {
        var channel = Channel.CreateBounded<MediaItem>(
            new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var shedAt = Math.Max(1, _options.QueueCapacity * 3 / 4);
        var converter = new Thread(() =>
            channel.Writer.TryComplete(Convert(item => Write(channel.Writer, item, cancellation), () => channel.Reader.Count >= shedAt, cancellation)))
            { IsBackground = true, Name = "vigil-converter" };
        converter.Start();
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                Dispatch(item);
        }
        finally
        {
            converter.Join();
        }
    }

    /// <summary>
    /// Reads the input to its end, mapping timestamps onto one continuous timeline, and hands each item
    /// to <paramref name="emit"/> (false: stop). Video frames are dropped while <paramref name="behind"/>.
    /// Returns the converter's failure, or null at the end of the input or on cancellation.
    /// </summary>
    private Exception? Convert(Func<MediaItem, bool> emit, Func<bool> behind, CancellationToken cancellation)
    {
        var fps = _source.Info.Video?.Fps is > 0 and var f ? f : 25;
        var timeline = new Timeline();
        var videoEnd = double.NaN;
        try
        {
            while (true)
            {
                var item = _source.Read();
                if (item.Kind == MediaItemKind.End) break;

                if (item.Video is { } frame)
                {
                    (frame.Pts, frame.Duration) = timeline.Map(Timeline.Kind.Video, frame.Pts, frame.Duration, 1 / fps);
                    if (!double.IsNaN(timeline.LastJump))
                        emit(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.TimestampJump, _source.Info.Video!.StreamIndex, frame.Pts, timeline.LastJump)));
                    else if (frame.Pts - videoEnd > FrameGapFactor * frame.Duration)
                        // frames are missing: dropped frames raise no decoder flag, only this gap
                        emit(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.FrameGap, _source.Info.Video!.StreamIndex, videoEnd, frame.Pts - videoEnd)));
                    videoEnd = frame.Pts + frame.Duration;
                    if (behind())
                    {
                        Interlocked.Increment(ref _shed);
                        frame.Release();
                        continue;
                    }
                }
                if (item.Audio is { } block)
                {
                    block.Pts = timeline.Map(Timeline.Kind.Audio, block.Pts, block.Duration, block.Duration).Pts;
                    if (!double.IsNaN(timeline.LastJump))
                        emit(new MediaItem(MediaItemKind.Event, Event: new MediaEvent(MediaEventKind.TimestampJump, _source.Info.Audio!.StreamIndex, block.Pts, timeline.LastJump)));
                }
                if (_options.MaxDuration is { } limit && (item.Video?.Pts ?? item.Audio?.Pts) >= limit)
                {
                    Release(item);
                    break;
                }
                if (item.Kind == MediaItemKind.Event)
                {
                    var e = item.Event;
                    Timeline.Kind? track = e.StreamIndex == _source.Info.Video?.StreamIndex ? Timeline.Kind.Video
                        : e.StreamIndex == _source.Info.Audio?.StreamIndex ? Timeline.Kind.Audio : null;
                    item = item with { Event = e with { Pts = timeline.MapEvent(track, e.Pts) } };
                }
                if (!emit(item)) return null;
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

    /// <summary>A video frame later than this many frame durations after the previous one means frames are missing.</summary>
    private const double FrameGapFactor = 1.5;

    private bool Write(ChannelWriter<MediaItem> writer, MediaItem item, CancellationToken cancellation)
    {
        while (!writer.TryWrite(item))
        {
            if (!writer.WaitToWriteAsync(cancellation).AsTask().GetAwaiter().GetResult())
            {
                Release(item);
                return false;
            }
        }
        return true;
    }

    private void Dispatch(MediaItem item)
    {
        switch (item.Kind)
        {
            case MediaItemKind.Video:
            {
                var frame = item.Video!;
                (_lastWidth, _lastHeight) = (frame.SourceWidth, frame.SourceHeight);
                foreach (var detector in _video) detector.Process(frame);
                _videoFrames++;
                Advance(frame.Pts + frame.Duration);
                frame.Release();
                break;
            }
            case MediaItemKind.Audio:
            {
                var block = item.Audio!;
                _loudness?.Process(block); // first: loudness detectors hear of each 100 ms step from it
                foreach (var detector in _audio) detector.Process(block);
                Advance(block.Pts + block.Duration);
                _audioBlocks++;
                block.Release();
                break;
            }
            case MediaItemKind.Event:
            {
                if (item.Event.Kind == MediaEventKind.PacketCorrupt) _corruptPackets++;
                else if (item.Event.Kind == MediaEventKind.DecodeError) _decodeErrors++;
                else if (item.Event.Kind is MediaEventKind.TimestampJump or MediaEventKind.FrameGap) _discontinuities++;
                foreach (var detector in _events) detector.Process(item.Event);
                break;
            }
        }
    }

    private void Advance(double time)
    {
        if (time > _endOfMedia) Volatile.Write(ref _endOfMedia, time);
    }

    private static void Release(MediaItem item)
    {
        item.Video?.Release();
        item.Audio?.Release();
    }
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
}
