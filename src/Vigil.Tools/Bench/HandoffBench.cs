using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Stream;
using Vigil.Detectors.Sync;
using Vigil.Detectors.Video;
using Vigil.Tools.Bench.Handoff;

namespace Vigil.Tools.Bench;

/// <summary>What <see cref="HandoffBench.RunAsync"/> runs.</summary>
public sealed record HandoffBenchOptions
{
    /// <summary>Every detector of today's catalog runs from what the object-storage run transfers (luma, grid, metadata, PCM, events).</summary>
    public const string DefaultDetectors = BlackDetector.KindName + "," + FreezeDetector.KindName + "," + CorruptionDetector.KindName + "," +
                                           BlockinessDetector.KindName + "," + SilenceDetector.KindName + "," + LoudnessDetector.KindName + "," +
                                           ClippingDetector.KindName + "," + AvSyncDetector.KindName + "," + DiscontinuityDetector.KindName;

    /// <summary>Live streams at once.</summary>
    public int Streams { get; init; } = 4;

    /// <summary>How long each stream is, in <see cref="HandoffClip.Seconds"/> s periods (one of each known defect per period).</summary>
    public int Periods { get; init; } = 4;

    /// <summary>The detectors both runs use.</summary>
    public string Detectors { get; init; } = DefaultDetectors;

    /// <summary>The built <c>vigil</c> CLI assembly (<c>dotnet VIGIL bench handoff-worker …</c> runs each worker).</summary>
    public required string VigilCli { get; init; }

    /// <summary>Where the clip is kept between runs; each run's files go in a folder below it, removed after.</summary>
    public required string WorkDir { get; init; }

    /// <summary>The list prices; null: the committed <see cref="Prices.DefaultPath"/>.</summary>
    public string? PricesPath { get; init; }
}

/// <summary>One process of a run: CPU seconds in the measured window, and its peak resident memory.</summary>
public sealed record HandoffProcess(string Name, double CpuSeconds, double PeakRssMiB);

/// <summary>One of the two runs, over the window from the senders' start to the last worker's end of analysis.</summary>
/// <param name="Name">Which design.</param>
/// <param name="WallSeconds">The window, wall clock.</param>
/// <param name="Processes">Every process of the design (live senders are the streams, not the monitor: not counted).</param>
/// <param name="Streams">What the analysing process reported per stream (frames, seconds, defects).</param>
/// <param name="ConverterFrames">Pictures the converter put (object-storage run), else 0.</param>
/// <param name="ConverterSeconds">Stream-seconds the converter put, else 0.</param>
/// <param name="Puts">Object PUTs, all processes.</param>
/// <param name="Gets">Object GETs, all processes.</param>
/// <param name="BytesPut">Bytes uploaded to the store.</param>
/// <param name="BytesGot">Bytes downloaded from it.</param>
/// <param name="Transitions">Orchestration transitions in the database, by state.</param>
/// <param name="ObjectsStored">Objects the store holds after the run (listed, as a check of <see cref="Puts"/>).</param>
public sealed record HandoffRun(string Name, double WallSeconds, IReadOnlyList<HandoffProcess> Processes, IReadOnlyList<HandoffStreamReport> Streams,
    long ConverterFrames, long ConverterSeconds, long Puts, long Gets, long BytesPut, long BytesGot,
    IReadOnlyDictionary<string, long> Transitions, long ObjectsStored)
{
    public double CpuSeconds => Processes.Sum(p => p.CpuSeconds);

    /// <summary>Peak resident memory, summed over the processes.</summary>
    public double PeakRssMiB => Processes.Sum(p => p.PeakRssMiB);

    public long BytesMoved => BytesPut + BytesGot;

    public long TransitionCount => Transitions.Values.Sum();

    /// <summary>Pictures analysed, all streams.</summary>
    public long Frames => Streams.Sum(s => s.Frames);

    public int DefectCount => Streams.Sum(s => s.Defects.Count);
}

/// <summary>Both runs on the same streams, and what they cost per stream-hour.</summary>
public sealed record HandoffResult(int Streams, double StreamSeconds, IReadOnlyList<string> Detectors, HandoffRun InMemory, HandoffRun ObjectStorage,
    Prices Prices, LoadAverage LoadBefore, LoadAverage LoadAfter)
{
    /// <summary>Stream-hours each run monitored.</summary>
    public double StreamHours => Streams * StreamSeconds / 3600;

    /// <summary><paramref name="value"/> (a run's total) per stream-hour.</summary>
    public double PerStreamHour(double value) => value / StreamHours;

    /// <summary>What a stream-hour of <paramref name="run"/> costs at <see cref="Prices"/>.</summary>
    public StreamHourCost Cost(HandoffRun run) => StreamHourCost.Of(Prices, PerStreamHour(run.CpuSeconds), run.PeakRssMiB / 1024 / Streams,
        PerStreamHour(run.Puts), PerStreamHour(run.Gets), PerStreamHour(run.TransitionCount));

    /// <summary>How many times the object-storage design costs what the in-memory one does.</summary>
    public double Ratio => Cost(ObjectStorage).Total / Cost(InMemory).Total;

    /// <summary>The saving of the in-memory design, 0..1.</summary>
    public double Reduction => 1 - Cost(InMemory).Total / Cost(ObjectStorage).Total;
}

/// <summary>The two runs reported different defects, or the clip's known defects were not found.</summary>
public sealed class HandoffMismatchException(string message) : Exception(message);

/// <summary>
/// <c>vigil bench handoff</c> (issue 16): what handing frames over in memory saves against the first design's
/// per-frame object storage, measured on the same live streams with the same detectors. Each stream is the
/// <see cref="HandoffClip"/> sent in real time (<c>ffmpeg -re … -c copy</c>) over TCP on loopback: the monitor
/// listens, the sender connects, and the feed's end is the sender's — so both runs receive the same bytes
/// (UDP would lose packets on a loaded machine and the comparison would measure the network). Then:
/// <list type="bullet">
/// <item><b>in memory</b>: one process (the pipeline <c>vigil analyze</c> runs), a converter and detectors per stream,
/// each frame handed over in memory;</item>
/// <item><b>through object storage</b>: a converter process PUTs every analysed picture (raw analysis luma, grid
/// statistics, metadata) and every second (audio, events, order) to s3rver on 127.0.0.1, and records each second's
/// state transition in the orchestration database (SQLite); a separate detector process polls it, GETs every object
/// and runs the same pipeline and detectors, writing one transition per detector per stream-second.</item>
/// </list>
/// The defects of both runs must be identical (contract JSON, stream by stream) and include the clip's known ones,
/// or the run throws <see cref="HandoffMismatchException"/>. CPU is the kernel's count for every process of a design
/// (workers, node, and SQLite inside the workers) over the window from the senders' start to the end of analysis.
/// </summary>
public static class HandoffBench
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(120);

    /// <summary>Runs both designs, checks their defects, and returns what they used.</summary>
    public static async Task<HandoffResult> RunAsync(HandoffBenchOptions options, TextWriter log, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Streams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Periods, 1);
        var selected = DetectorCatalog.Select(options.Detectors);
        var prices = Prices.Load(options.PricesPath);
        if (!File.Exists(options.VigilCli)) throw new FileNotFoundException($"the vigil CLI is not at {options.VigilCli}");
        var clip = await HandoffClip.EnsureAsync(options.WorkDir, options.Periods, log, cancel);
        var work = Path.Combine(options.WorkDir, $"handoff-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(work);
        try
        {
            var before = ProcessMeter.Load();
            var streamSeconds = options.Periods * HandoffClip.Seconds;
            await log.WriteLineAsync($"vigil bench handoff: {options.Streams} streams × {streamSeconds:0} s; load average before: {before.One:0.0}");
            var inMemory = await InMemoryAsync(options, clip, work, log, cancel);
            var objectStorage = await ObjectStorageAsync(options, clip, work, log, cancel);
            var result = new HandoffResult(options.Streams, streamSeconds, selected.Select(d => d.Kind).ToList(), inMemory, objectStorage, prices,
                before, ProcessMeter.Load());
            Check(result, selected, options.Periods);
            return result;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// The differences between two runs' defects, stream by stream: each contract JSON line counted in both (the order
    /// in which defects of different kinds end may differ; what was found may not). Empty when they are the same.
    /// </summary>
    public static IReadOnlyList<string> DefectDifferences(IReadOnlyList<HandoffStreamReport> a, IReadOnlyList<HandoffStreamReport> b)
    {
        var differences = new List<string>();
        if (a.Count != b.Count) differences.Add($"{a.Count} streams against {b.Count}");
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            var left = a[i].Defects.CountBy(line => line).ToDictionary();
            var right = b[i].Defects.CountBy(line => line).ToDictionary();
            foreach (var line in left.Keys.Union(right.Keys).Order(StringComparer.Ordinal))
            {
                var (inMemory, stored) = (left.GetValueOrDefault(line), right.GetValueOrDefault(line));
                if (inMemory != stored) differences.Add($"stream {i}: {inMemory}× in memory, {stored}× through object storage: {line}");
            }
        }
        return differences;
    }

    /// <summary>The <c>kind</c> of a defect's contract JSON line.</summary>
    public static string KindOf(string defectLine)
    {
        using var json = JsonDocument.Parse(defectLine);
        return json.RootElement.GetProperty("kind").GetString() ?? "";
    }

    /// <summary>Fails loudly unless both runs report the same defects, the clip's known ones among them, and the counts add up.</summary>
    private static void Check(HandoffResult result, IReadOnlyList<DetectorDescriptor> selected, int periods)
    {
        var (a, b) = (result.InMemory, result.ObjectStorage);
        var differences = DefectDifferences(a.Streams, b.Streams);
        if (differences.Count > 0)
            throw new HandoffMismatchException("the two runs reported different defects:\n  " + string.Join("\n  ", differences.Take(20)));
        // the clip's defects, known by construction: one of each per period, in every stream
        foreach (var (kind, _) in HandoffClip.KnownDefects.Where(k => selected.Any(d => d.Kind == k.Kind)))
            for (var i = 0; i < a.Streams.Count; i++)
            {
                var found = a.Streams[i].Defects.Count(line => KindOf(line) == kind);
                if (found != periods)
                    throw new HandoffMismatchException($"stream {i}: {found} {kind} defects where the clip has {periods} (one per period)");
            }
        if (a.Frames != b.Frames || b.ConverterFrames != b.Frames)
            throw new HandoffMismatchException($"pictures: {a.Frames} analysed in memory, {b.ConverterFrames} put, {b.Frames} analysed from the store");
        // one object per picture and per second, each put once and got once; one transition per second from the
        // converter and one per detector that ran
        var objects = b.ConverterFrames + b.ConverterSeconds;
        if (b.Puts != objects || b.Gets != objects || b.ObjectsStored != objects)
            throw new HandoffMismatchException($"objects: {objects} expected ({b.ConverterFrames} pictures + {b.ConverterSeconds} seconds), " +
                                               $"{b.Puts} PUT, {b.Gets} GET, {b.ObjectsStored} in the store");
        var states = b.Streams.SelectMany(s => s.Detectors).Distinct().Append(Orchestration.Converted).ToList();
        foreach (var state in states)
            if (b.Transitions.GetValueOrDefault(state) != b.ConverterSeconds)
                throw new HandoffMismatchException($"{b.Transitions.GetValueOrDefault(state)} transitions to '{state}' for {b.ConverterSeconds} stream-seconds");
    }

    private static async Task<HandoffRun> InMemoryAsync(HandoffBenchOptions options, string clip, string work, TextWriter log, CancellationToken cancel)
    {
        await log.WriteLineAsync("vigil bench handoff: run 1, in memory (one process)");
        var ports = FreePorts(options.Streams);
        var config = new HandoffWorkerConfig(HandoffRole.InMemory, ports, options.Detectors, Path.Combine(work, "in-memory.json"));
        await using var worker = StartWorker("vigil (converter + detectors)", options.VigilCli, config, work);
        var (wall, usage) = await MeasureAsync([worker], [worker], ports, clip, options.Periods * HandoffClip.Seconds, cancel);
        var report = await FinishAsync(worker, config.Report);
        return new HandoffRun("in memory", wall, usage, report.Streams, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>(), 0);
    }

    private static async Task<HandoffRun> ObjectStorageAsync(HandoffBenchOptions options, string clip, string work, TextWriter log, CancellationToken cancel)
    {
        await log.WriteLineAsync("vigil bench handoff: run 2, through object storage (converter, s3rver, orchestration database, detector process)");
        var ports = FreePorts(options.Streams);
        var database = Path.Combine(work, "orchestration.db");
        Orchestration.Create(database);
        await using var s3rver = await S3rverProcess.StartAsync(Path.Combine(work, "s3rver"), log, cancel);
        const string bucket = "handoff";
        using var store = new CountingObjectStore(s3rver.Url, bucket, HandoffWorker.AccessKey, HandoffWorker.SecretKey);
        await store.CreateBucketAsync(cancel);

        var detectorsConfig = new HandoffWorkerConfig(HandoffRole.Detectors, ports, options.Detectors, Path.Combine(work, "detectors.json"),
            database, s3rver.Url, bucket);
        var converterConfig = detectorsConfig with { Role = HandoffRole.Converter, Report = Path.Combine(work, "converter.json") };
        await using var detectors = StartWorker("detector process", options.VigilCli, detectorsConfig, work);
        await using var converter = StartWorker("converter", options.VigilCli, converterConfig, work);
        var (wall, usage) = await MeasureAsync([converter, s3rver.Process, detectors], [converter, detectors], ports, clip,
            options.Periods * HandoffClip.Seconds, cancel);
        var converted = await FinishAsync(converter, converterConfig.Report);
        var analysed = await FinishAsync(detectors, detectorsConfig.Report);
        var objects = await store.CountObjectsAsync(cancel);
        Dictionary<string, long> transitions;
        using (var orchestration = Orchestration.Open(database)) transitions = orchestration.CountByState();
        return new HandoffRun("through object storage", wall, usage, analysed.Streams,
            converted.Streams.Sum(s => s.Frames), converted.Streams.Sum(s => s.Seconds),
            converted.Puts + analysed.Puts, converted.Gets + analysed.Gets, converted.BytesPut + analysed.BytesPut, converted.BytesGot + analysed.BytesGot,
            transitions, objects);
    }

    /// <summary>
    /// Waits until every stream's port listens, starts the live senders, and waits until each of
    /// <paramref name="analysers"/> has finished; returns the window's wall seconds and each process's CPU in
    /// it (and its peak memory), read while they all still run.
    /// </summary>
    private static async Task<(double Wall, IReadOnlyList<HandoffProcess> Usage)> MeasureAsync(IReadOnlyList<BenchProcess> processes,
        IReadOnlyList<BenchProcess> analysers, int[] ports, string clip, double streamSeconds, CancellationToken cancel)
    {
        var listening = Stopwatch.StartNew();
        foreach (var port in ports)
            while (!ProcessMeter.IsListening(port))
            {
                if (listening.Elapsed > Startup) throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {Startup.TotalSeconds:0} s");
                if (analysers.FirstOrDefault(p => p.HasExited) is { } gone)
                    throw new InvalidOperationException($"{gone.Name} exited before listening: {gone.StderrTail}");
                await Task.Delay(20, cancel);
            }
        var start = processes.Select(p => ProcessMeter.CpuSeconds(p.Pid)).ToArray();
        var wall = Stopwatch.StartNew();
        var senders = new List<BenchProcess>();
        try
        {
            foreach (var port in ports)
                senders.Add(BenchProcess.Start($"sender to {port}", "ffmpeg",
                    ["-v", "error", "-nostdin", "-re", "-i", clip, "-c", "copy", "-f", "mpegts", $"tcp://127.0.0.1:{port}"]));
            // real time, or slower when the design cannot keep up (the feed then waits: TCP)
            var limit = TimeSpan.FromSeconds(Math.Max(300, 10 * ports.Length * streamSeconds));
            foreach (var analyser in analysers)
            {
                var line = await analyser.WaitForLineAsync(l => l is "done" or "failed", limit, cancel);
                if (line == "failed") throw new InvalidOperationException($"{analyser.Name} failed: {analyser.StderrTail}");
            }
            var seconds = wall.Elapsed.TotalSeconds;
            var usage = processes.Select((p, i) => new HandoffProcess(p.Name, ProcessMeter.CpuSeconds(p.Pid) - start[i], ProcessMeter.PeakRssMiB(p.Pid))).ToList();
            foreach (var sender in senders)
                if (await sender.WaitForExitAsync(TimeSpan.FromSeconds(30)) is var status and not 0)
                    throw new InvalidOperationException($"{sender.Name} failed ({status}): {sender.StderrTail}");
            return (seconds, usage);
        }
        finally
        {
            foreach (var sender in senders) await sender.DisposeAsync();
        }
    }

    private static BenchProcess StartWorker(string name, string vigilCli, HandoffWorkerConfig config, string work)
    {
        var path = Path.Combine(work, $"{config.Role}.config.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config, HandoffWorker.Json));
        return BenchProcess.Start(name, "dotnet", [vigilCli, "bench", "handoff-worker", path]);
    }

    private static async Task<HandoffWorkerReport> FinishAsync(BenchProcess worker, string reportPath)
    {
        var status = await worker.CloseInputAsync(TimeSpan.FromSeconds(60));
        var report = File.Exists(reportPath)
            ? JsonSerializer.Deserialize<HandoffWorkerReport>(await File.ReadAllTextAsync(reportPath), HandoffWorker.Json)
            : null;
        if (status != 0 || report is null || report.Error is not null)
            throw new InvalidOperationException($"{worker.Name} failed ({status}): {report?.Error ?? worker.StderrTail}");
        return report;
    }

    /// <summary>Free TCP ports on 127.0.0.1 (bound at once, then released for the workers to listen on).</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return l;
        }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }
}
