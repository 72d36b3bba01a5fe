using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>Which process of the hand-off benchmark a worker is.</summary>
public enum HandoffRole
{
    /// <summary>Vigil as it runs today: converter and detectors of every stream in one process, frames handed over in memory.</summary>
    InMemory,
    /// <summary>The first design's converter: decodes every stream and PUTs each picture and each second to the store.</summary>
    Converter,
    /// <summary>The first design's detectors: a separate process that GETs what the converter put, then analyses it.</summary>
    Detectors,
}

/// <summary>What the benchmark tells a worker (a JSON file named on its command line).</summary>
/// <param name="Role">Which process it is.</param>
/// <param name="Ports">One TCP port per stream, listened on for the live feed (in-memory and converter; the detector process only counts them).</param>
/// <param name="Detectors">The detector selection (<see cref="DetectorCatalog.Select"/>).</param>
/// <param name="Report">Where the worker writes its <see cref="HandoffWorkerReport"/>.</param>
/// <param name="Database">The orchestration database (object-storage roles).</param>
/// <param name="StoreUrl">The S3-compatible store (object-storage roles).</param>
/// <param name="Bucket">Its bucket.</param>
public sealed record HandoffWorkerConfig(HandoffRole Role, int[] Ports, string Detectors, string Report,
    string? Database = null, string? StoreUrl = null, string? Bucket = null);

/// <summary>What one worker did for one stream.</summary>
/// <param name="Frames">Pictures analysed (in-memory, detectors) or put (converter).</param>
/// <param name="AudioBlocks">Audio blocks analysed or put.</param>
/// <param name="Seconds">Stream-seconds put (converter) or replayed (detectors); 0 in memory.</param>
/// <param name="Transitions">Orchestration transitions this worker wrote for the stream.</param>
/// <param name="MediaSeconds">Media time analysed (the pipeline's end of media), 0 for the converter.</param>
/// <param name="Detectors">Detector kinds that ran on it.</param>
/// <param name="Defects">Every defect it reported, as the contract's JSON lines, in the order they ended.</param>
public sealed record HandoffStreamReport(long Frames, long AudioBlocks, long Seconds, long Transitions, double MediaSeconds,
    IReadOnlyList<string> Detectors, IReadOnlyList<string> Defects);

/// <summary>What a worker reports at the end.</summary>
/// <param name="Streams">Per stream, in the order of the ports.</param>
/// <param name="Puts">Object PUTs it made.</param>
/// <param name="Gets">Object GETs it made.</param>
/// <param name="BytesPut">Bytes it uploaded.</param>
/// <param name="BytesGot">Bytes it downloaded.</param>
/// <param name="Error">What failed, if something did.</param>
public sealed record HandoffWorkerReport(IReadOnlyList<HandoffStreamReport> Streams, long Puts, long Gets, long BytesPut, long BytesGot, string? Error);

/// <summary>
/// One process of the hand-off benchmark (<c>vigil bench handoff-worker CONFIG</c>). It prints
/// <c>listening N</c> before it opens stream N's feed, <c>done</c> once its report is written, then waits for
/// its standard input to close, so the benchmark reads its CPU and peak memory while it still exists.
/// </summary>
public static class HandoffWorker
{
    /// <summary>The store's fixed credentials (s3rver's own, on loopback).</summary>
    public const string AccessKey = "S3RVER", SecretKey = "S3RVER";

    /// <summary>How every worker opens a live feed: one decode thread per stream, as a monitor of many streams runs.</summary>
    public static MediaOpenOptions OpenOptions(IEnumerable<DetectorDescriptor> selected) =>
        DetectorCatalog.DecodeFor(selected, new MediaOpenOptions
        {
            DecodeThreads = 1,
            OpenTimeout = TimeSpan.FromSeconds(120),
            IoTimeout = TimeSpan.FromSeconds(120),
        });

    /// <summary>The listening URL of the feed on <paramref name="port"/>: the sender connects, and its end is the stream's end.</summary>
    public static string FeedUrl(int port) => $"tcp://127.0.0.1:{port}?listen=1";

    /// <summary>How the benchmark's files are written: configuration, reports and its result (defect lines stay readable).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Runs the worker described by the file <paramref name="configPath"/>; returns the exit status.</summary>
    public static async Task<int> RunAsync(string configPath, TextReader input, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        var config = JsonSerializer.Deserialize<HandoffWorkerConfig>(await File.ReadAllTextAsync(configPath, cancel), Json)
                     ?? throw new InvalidDataException($"{configPath}: no worker configuration");
        var selected = DetectorCatalog.Select(config.Detectors);
        var streams = config.Ports.Length;
        using var store = config.Role == HandoffRole.InMemory
            ? null
            : new CountingObjectStore(config.StoreUrl!, config.Bucket!, AccessKey, SecretKey);
        var said = new Lock();
        void Say(string line)
        {
            lock (said)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        HandoffStreamReport[] reports;
        string? failure = null;
        try
        {
            reports = await Task.WhenAll(Enumerable.Range(0, streams).Select(i => Task.Factory.StartNew(() => config.Role switch
            {
                HandoffRole.InMemory => InMemory(i, config.Ports[i], selected, Say, cancel),
                HandoffRole.Converter => Convert(i, config.Ports[i], selected, store!, config.Database!, Say, cancel),
                _ => Detect(i, selected, store!, config.Database!, cancel),
            }, cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            failure = e.Message;
            reports = [];
            await error.WriteLineAsync($"vigil bench handoff-worker ({config.Role}): {e}");
        }
        var report = new HandoffWorkerReport(reports, store?.Puts ?? 0, store?.Gets ?? 0, store?.BytesPut ?? 0, store?.BytesGot ?? 0, failure);
        await File.WriteAllTextAsync(config.Report, JsonSerializer.Serialize(report, Json), cancel);
        Say(failure is null ? "done" : "failed");
        // stay until the benchmark has read this process's CPU and memory: it closes our input then
        await input.ReadToEndAsync(cancel);
        return failure is null ? 0 : 1;
    }

    /// <summary>Vigil today: the stream's converter and detectors in this process, each frame handed over in memory.</summary>
    private static HandoffStreamReport InMemory(int index, int port, IReadOnlyList<DetectorDescriptor> selected, Action<string> say, CancellationToken cancel)
    {
        say($"listening {index}");
        using var source = MediaSource.Open(FeedUrl(port), OpenOptions(selected));
        var defects = new DefectCollector();
        var detectors = DetectorCatalog.Create(selected, new DetectorContext(source.Info, defects, DetectorSettings.Empty));
        var summary = new StreamAnalyzer(source, detectors).RunAsync(cancel).GetAwaiter().GetResult();
        return new HandoffStreamReport(summary.VideoFrames, summary.AudioBlocks, 0, 0, summary.Duration,
            detectors.Select(d => d.Kind).ToList(), defects.Ended.Select(ContractJson.Defect).ToList());
    }

    /// <summary>
    /// The first design's converter for one stream: decodes exactly what the in-memory run decodes and puts every
    /// picture as it comes, and each second (its audio, events and order) when the next begins; then records the
    /// second's transition to <see cref="Orchestration.Converted"/>.
    /// </summary>
    private static HandoffStreamReport Convert(int index, int port, IReadOnlyList<DetectorDescriptor> selected, CountingObjectStore store,
        string database, Action<string> say, CancellationToken cancel)
    {
        using var orchestration = Orchestration.Open(database);
        say($"listening {index}");
        using var source = MediaSource.Open(FeedUrl(port), OpenOptions(selected));
        orchestration.StreamStarted(index, JsonSerializer.Serialize(source.Info, Json));
        var second = new HandoffObjects.SecondWriter();
        long seconds = 0, frames = 0, blocks = 0;
        var secondStart = double.NaN;
        second.Begin(0);

        void Close()
        {
            store.PutAsync(HandoffObjects.SecondKey(index, seconds), second.Finish(), cancel).GetAwaiter().GetResult();
            orchestration.Transition(index, seconds, Orchestration.Converted);
            seconds++;
            second.Begin(seconds);
        }

        using (cancel.Register(source.Interrupt))
        {
            while (true)
            {
                var item = source.Read();
                if (item.Kind == MediaItemKind.End) break;
                var pts = item.Video?.Pts ?? item.Audio?.Pts ?? double.NaN;
                if (!double.IsNaN(pts))
                {
                    // a second ends at the first picture or audio block a second (or more, either way) after its first
                    if (double.IsNaN(secondStart)) secondStart = pts;
                    else if (Math.Abs(pts - secondStart) >= 1)
                    {
                        Close();
                        secondStart = pts;
                    }
                }
                if (item.Video is { } frame)
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(HandoffObjects.FrameSize(frame));
                    try
                    {
                        var length = HandoffObjects.WriteFrame(frame, buffer);
                        store.PutAsync(HandoffObjects.FrameKey(index, frames), buffer.AsMemory(0, length), cancel).GetAwaiter().GetResult();
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        frame.Release();
                    }
                    second.AddFrame(frames++);
                }
                else if (item.Audio is { } block)
                {
                    second.AddAudio(block);
                    block.Release();
                    blocks++;
                }
                else second.AddEvent(item.Event);
            }
        }
        if (second.Entries > 0) Close();
        orchestration.StreamEnded(index, seconds);
        return new HandoffStreamReport(frames, blocks, seconds, seconds, 0, [], []);
    }

    /// <summary>
    /// The first design's detectors for one stream, in their own process: the same pipeline and detectors as in
    /// memory, reading the converter's items back from the store (<see cref="ObjectStoreReader"/>).
    /// </summary>
    private static HandoffStreamReport Detect(int index, IReadOnlyList<DetectorDescriptor> selected, CountingObjectStore store, string database,
        CancellationToken cancel)
    {
        using var orchestration = Orchestration.Open(database);
        var waited = Stopwatch.StartNew();
        string? info;
        while ((info = orchestration.StreamInfo(index)) is null)
        {
            if (waited.Elapsed > ObjectStoreReader.ConverterTimeout)
                throw new TimeoutException($"stream {index}: the converter did not start it in {ObjectStoreReader.ConverterTimeout.TotalSeconds:0} s");
            if (cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(20))) cancel.ThrowIfCancellationRequested();
        }
        var media = JsonSerializer.Deserialize<MediaInfo>(info, Json)!;
        var reader = new ObjectStoreReader(index, media, store, orchestration, cancel);
        var defects = new DefectCollector();
        var detectors = DetectorCatalog.Create(selected, new DetectorContext(media, defects, DetectorSettings.Empty));
        reader.DetectorKinds = detectors.Select(d => d.Kind).ToList();
        var summary = new StreamAnalyzer(reader, detectors).RunAsync(cancel).GetAwaiter().GetResult();
        return new HandoffStreamReport(summary.VideoFrames, summary.AudioBlocks, reader.Seconds, reader.Transitions, summary.Duration,
            reader.DetectorKinds, defects.Ended.Select(ContractJson.Defect).ToList());
    }
}
