using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Segments;

/// <summary>
/// Writes, per stream and per segment of wall-clock time (aligned, e.g. every minute on the minute),
/// one JSON object with what the segment held: frames analysed and shed, connections, state, defects
/// started by kind and every event published in it. Objects that cannot be written are kept and
/// retried at the next segment; at shutdown the segment in progress is written as a partial one.
/// Stream URLs in results are redacted (<see cref="UrlRedaction"/>).
/// </summary>
public sealed class ResultsWriter : BackgroundService
{
    private readonly IObjectStore _store;
    private readonly IStreamControl _streams;
    private readonly ServiceOptions _options;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<StoredEvent>> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamStatus> _previous = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, byte[] Content)> _pending = new();
    private DateTimeOffset _segmentStart;

    public ResultsWriter(IObjectStore store, IStreamControl streams, EventHub hub, ServiceOptions options, ILogger<ResultsWriter> log)
    {
        _store = store;
        _streams = streams;
        _options = options;
        _log = log;
        _segmentStart = Align(DateTimeOffset.UtcNow);
        hub.Published += e =>
        {
            lock (_gate)
            {
                if (!_events.TryGetValue(e.StreamId, out var list)) _events[e.StreamId] = list = [];
                list.Add(e);
            }
        };
    }

    /// <summary>Objects written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    private long _written;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        if (_store is S3ObjectStore s3)
        {
            try
            {
                await s3.EnsureBucketAsync(stop);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError("Results bucket check failed: {Reason}", e.Message);
            }
        }
        _log.LogInformation("Results every {Seconds} s to {Store}", _options.SegmentSeconds, _store.Describe);
        while (!stop.IsCancellationRequested)
        {
            var end = _segmentStart.AddSeconds(_options.SegmentSeconds);
            var wait = end - DateTimeOffset.UtcNow;
            try
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await CloseSegmentAsync(end, partial: false, stop);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await CloseSegmentAsync(DateTimeOffset.UtcNow, partial: true, cancellationToken);
    }

    private async Task CloseSegmentAsync(DateTimeOffset end, bool partial, CancellationToken cancellation)
    {
        var start = _segmentStart;
        _segmentStart = partial ? end : Align(end);
        Dictionary<string, List<StoredEvent>> events;
        lock (_gate)
        {
            events = new Dictionary<string, List<StoredEvent>>(_events);
            _events.Clear();
        }
        foreach (var pipeline in _streams.Local)
        {
            // in a fleet each detector group of a stream is its own pipeline and its own object
            var key = pipeline.Group is null ? pipeline.Config.Id : $"{pipeline.Config.Id}/{pipeline.Group}";
            var status = pipeline.Status;
            var previous = _previous.GetValueOrDefault(key);
            _previous[key] = status;
            var all = events.GetValueOrDefault(pipeline.Config.Id) ?? [];
            var mine = all.Where(e => pipeline.Reports(e.Kind)).ToList();
            all.RemoveAll(e => pipeline.Reports(e.Kind));
            if (all.Count == 0) events.Remove(pipeline.Config.Id);
            Enqueue(pipeline.Config, start, end, partial, status, previous, mine, group: pipeline.Group);
        }
        foreach (var (streamId, mine) in events) // streams paused or removed during the segment
            Enqueue(null, start, end, partial, null, null, mine, streamId);
        await FlushAsync(cancellation);
    }

    private void Enqueue(StreamConfig? config, DateTimeOffset start, DateTimeOffset end, bool partial, StreamStatus? status,
        StreamStatus? previous, List<StoredEvent> events, string? streamId = null, string? group = null)
    {
        var id = config?.Id ?? streamId!;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("stream_id", id);
            if (group is not null) w.WriteString("group", group);
            if (config is not null)
            {
                w.WriteString("name", config.Name);
                w.WriteString("url", UrlRedaction.Redact(config.Url)); // results are read by more people than admins
            }
            w.WriteString("segment_start", start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("segment_end", end.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            if (partial) w.WriteBoolean("partial", true);
            if (status is not null)
            {
                w.WriteString("state", status.State.ToString().ToLowerInvariant());
                w.WriteBoolean("stalled", status.Stalled);
                w.WriteNumber("frames_analysed", status.FramesAnalysed - (previous?.FramesAnalysed ?? 0));
                w.WriteNumber("frames_shed", status.FramesShed - (previous?.FramesShed ?? 0));
                w.WriteNumber("connections", status.Connections - (previous?.Connections ?? 0));
                w.WriteNumber("fps", status.Fps);
                w.WriteNumber("lag_seconds", status.LagSeconds);
                w.WriteNumber("position", status.Position);
            }
            w.WriteStartObject("defects");
            foreach (var byKind in events.Where(e => e.Type == "defect_start").GroupBy(e => e.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
                w.WriteNumber(byKind.Key, byKind.Count());
            w.WriteEndObject();
            w.WriteStartArray("events");
            foreach (var e in events) w.WriteRawValue(e.Json, skipInputValidation: true);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var key = $"{_options.Storage.Prefix}{id}/{(group is null ? "" : group + "/")}{start.UtcDateTime:yyyy-MM-dd}/{start.UtcDateTime:HH-mm-ss}{(partial ? "-partial" : "")}.json";
        lock (_pending)
        {
            _pending.Enqueue((key, buffer.WrittenSpan.ToArray()));
            while (_pending.Count > 10_000) _pending.Dequeue(); // a store away for a week must not take all memory
        }
    }

    private async Task FlushAsync(CancellationToken cancellation)
    {
        while (true)
        {
            (string Key, byte[] Content) next;
            lock (_pending)
            {
                if (!_pending.TryPeek(out next)) return;
            }
            try
            {
                await _store.PutAsync(next.Key, next.Content, "application/json", cancellation);
                Interlocked.Increment(ref _written);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogWarning("Writing results {Key} to {Store} failed, retrying next segment: {Reason}", next.Key, _store.Describe, e.Message);
                return;
            }
            lock (_pending) _pending.Dequeue();
        }
    }

    private DateTimeOffset Align(DateTimeOffset t)
    {
        var length = (long)Math.Max(1, _options.SegmentSeconds * 1000);
        var ms = t.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds(ms - ms % length);
    }
}
