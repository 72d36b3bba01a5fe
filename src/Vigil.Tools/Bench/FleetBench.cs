using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json.Nodes;
using Npgsql;
using Vigil.Cluster.Store;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Tools.Bench;

/// <summary>What the control-plane run measured (synthetic pipelines: no media, heartbeats only).</summary>
/// <param name="Entities">(stream, group) pipelines placed.</param>
/// <param name="Nodes">Fleet nodes (processes) on this machine.</param>
/// <param name="Killed">Pipelines the killed node ran.</param>
/// <param name="PlaceSeconds">From the streams being stored to every (stream, group) reporting from a node.</param>
/// <param name="ReplaceSeconds">From <c>kill -9</c> of one node to each of its pipelines reporting from a survivor.</param>
/// <param name="StatementsPerSecond">SQL statements all nodes sent per second at steady state (their own counters).</param>
/// <param name="TransactionsPerSecond">Transactions PostgreSQL committed per second at steady state (its own counter).</param>
/// <param name="KibPerEntity">Resident memory of the nodes with every pipeline placed, over the same nodes idle, per pipeline.</param>
/// <param name="CoresAtSteadyState">CPU cores the nodes used together at steady state.</param>
public sealed record ControlPlaneResult(int Entities, int Nodes, int Killed, double PlaceSeconds, double ReplaceSeconds,
    double StatementsPerSecond, double TransactionsPerSecond, double KibPerEntity, double CoresAtSteadyState);

/// <summary>What the decoding run measured: CPU per stream of one node running every detector, and of two nodes splitting them.</summary>
/// <param name="Streams">Live streams monitored.</param>
/// <param name="SingleCoresPerStream">CPU cores per stream of one node running every detector.</param>
/// <param name="SplitCoresPerStream">Per role: CPU cores per stream of that node.</param>
/// <param name="SingleFps">Frames analysed per second per stream, one node.</param>
/// <param name="SplitFps">Frames analysed per second per stream (every group counted), split.</param>
public sealed record DecodeSplitResult(int Streams, double SingleCoresPerStream, IReadOnlyDictionary<string, double> SplitCoresPerStream,
    double SingleFps, double SplitFps)
{
    public double SplitTotal => SplitCoresPerStream.Values.Sum();

    /// <summary>What splitting costs over one node running everything (1.0: nothing).</summary>
    public double Price => SplitTotal / SingleCoresPerStream;
}

/// <summary>
/// <c>vigil bench fleet</c>: fleet nodes as real processes (<c>vigil serve</c> with cluster options) on a private
/// PostgreSQL. The control plane: thousands of synthetic (stream, group) pipelines across nodes: placing them,
/// re-placing a killed node's share, the store's load and the memory of an idle pipeline. With decoding: live
/// 720p streams split across two nodes by detector subset against one node running every detector (each node
/// decodes what its detectors need, so the split decodes some media twice: its price, measured).
/// </summary>
public sealed class FleetBench : IAsyncDisposable
{
    private readonly PrivatePostgres _pg;
    private readonly string _work;
    private readonly List<Node> _nodes = [];

    private FleetBench(PrivatePostgres pg, string work) => (_pg, _work) = (pg, work);

    public static FleetBench Create()
    {
        var work = Path.Combine(Path.GetTempPath(), $"vigil-bench-fleet-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        SecretBox.FromKeyFile(KeyFile(work)); // one sealing key for every node, made before they start
        return new FleetBench(PrivatePostgres.Start(), work);
    }

    /// <summary>
    /// <paramref name="nodes"/> synthetic nodes, half of role <c>video</c> and half <c>audio</c>; streams with one
    /// video and one audio detector, so <paramref name="entities"/>/2 streams make <paramref name="entities"/> pipelines.
    /// </summary>
    public async Task<ControlPlaneResult> ControlPlaneAsync(int entities, int nodes, int steadySeconds, TextWriter log, CancellationToken cancel)
    {
        var db = _pg.CreateDatabase("control");
        var roles = Enumerable.Range(0, nodes).Select(i => i % 2 == 0 ? "video" : "audio").ToList();
        var started = StartNodes(db, roles, synthetic: true);
        await WaitUpAsync(started, cancel);
        await Task.Delay(3000, cancel); // idle baseline after start-up settles
        var idleRss = started.Sum(n => n.RssBytes());

        using var store = new PostgresStore(db, "bench", 10, secrets: SecretBox.FromKeyFile(KeyFile(_work)));
        var streams = entities / 2;
        var now = DateTimeOffset.UtcNow;
        await log.WriteLineAsync($"vigil bench fleet: storing {streams} streams ({entities} pipelines) for {nodes} nodes");
        await using (var c = new NpgsqlConnection(db))
        {
            await c.OpenAsync(cancel);
            await using var copy = await c.BeginBinaryImportAsync(
                "COPY streams (id, name, url, detectors, settings, masks, paused, created_at, updated_at, epoch) FROM STDIN (FORMAT BINARY)", cancel);
            for (var i = 0; i < streams; i++)
            {
                await copy.StartRowAsync(cancel);
                await copy.WriteAsync($"syn-{i:00000}", cancel);
                await copy.WriteAsync($"synthetic {i}", cancel);
                await copy.WriteAsync($"udp://127.0.0.1:{10000 + i % 50000}", cancel);
                await copy.WriteAsync("[\"video.black\",\"audio.silence\"]", NpgsqlTypes.NpgsqlDbType.Jsonb, cancel);
                await copy.WriteAsync("{}", NpgsqlTypes.NpgsqlDbType.Jsonb, cancel);
                await copy.WriteAsync("[]", NpgsqlTypes.NpgsqlDbType.Jsonb, cancel);
                await copy.WriteAsync(false, cancel);
                await copy.WriteAsync(now.UtcDateTime, NpgsqlTypes.NpgsqlDbType.TimestampTz, cancel);
                await copy.WriteAsync(now.UtcDateTime, NpgsqlTypes.NpgsqlDbType.TimestampTz, cancel);
                await copy.WriteAsync(now.ToUnixTimeMilliseconds() / 1000.0, cancel);
            }
            await copy.CompleteAsync(cancel);
        }
        var clock = Stopwatch.StartNew();
        var since = DateTime.UtcNow;
        await WaitAsync(() => Reporting(db, since) >= entities, 600, $"{entities} pipelines to report", cancel);
        var place = clock.Elapsed.TotalSeconds;
        await log.WriteLineAsync($"vigil bench fleet: {entities} pipelines placed in {place:0.0} s; steady state for {steadySeconds} s");

        await Task.Delay(5000, cancel);
        var statements0 = await StatementsAsync(started, cancel);
        var tx0 = Transactions(db);
        var cpu0 = started.Sum(n => n.CpuSeconds());
        var steady = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(steadySeconds), cancel);
        var statements = (await StatementsAsync(started, cancel) - statements0) / steady.Elapsed.TotalSeconds;
        var tx = (Transactions(db) - tx0) / steady.Elapsed.TotalSeconds;
        var cores = (started.Sum(n => n.CpuSeconds()) - cpu0) / steady.Elapsed.TotalSeconds;
        var kib = (started.Sum(n => n.RssBytes()) - idleRss) / 1024.0 / entities;

        // kill -9 the last node (not the oldest: the singletons stay, as in most failures)
        var victim = started[^1];
        var share = Count(db, "SELECT count(*) FROM pipelines WHERE node = @n", victim.Name);
        await log.WriteLineAsync($"vigil bench fleet: kill -9 of {victim.Name} ({share} pipelines)");
        clock.Restart();
        var killedAt = DateTime.UtcNow;
        victim.Kill();
        await WaitAsync(() => Count(db, "SELECT count(*) FROM pipelines WHERE node = @n", victim.Name) == 0
                              && Reporting(db, killedAt) >= entities, 600, "the killed node's share to be re-placed", cancel);
        var replace = clock.Elapsed.TotalSeconds;
        foreach (var n in started) n.Kill();
        return new ControlPlaneResult(entities, nodes, (int)share, place, replace, statements, tx, kib, cores);
    }

    /// <summary>
    /// <paramref name="streams"/> live 720p25 streams (the clip of <c>vigil bench streams</c>, broadcast on loopback so each node
    /// gets its own copy), first on one node with every detector, then on a <c>video</c> node and an <c>audio+av.sync</c> node.
    /// </summary>
    public async Task<DecodeSplitResult> DecodeSplitAsync(string clip, int streams, int warmup, int seconds, TextWriter log, CancellationToken cancel)
    {
        var ports = new List<int>();
        var senders = new List<Process>();
        try
        {
            for (var i = 0; i < streams; i++)
            {
                var port = FreeUdpPort();
                ports.Add(port);
                senders.Add(Process.Start(new ProcessStartInfo("ffmpeg",
                    $"-v error -re -stream_loop -1 -i \"{clip}\" -c copy -f mpegts \"udp://127.255.255.255:{port}?pkt_size=1316&broadcast=1\"")
                {
                    RedirectStandardError = true,
                    RedirectStandardInput = true,
                })!);
            }
            await log.WriteLineAsync($"vigil bench fleet: {streams} live streams on one node with every detector");
            var (single, singleFps) = await MeasureAsync("single", ["all"], ports, warmup, seconds, cancel);
            await log.WriteLineAsync($"vigil bench fleet: the same streams split over a video node and an audio+av.sync node");
            var (split, splitFps) = await MeasureAsync("split", ["video", "audio+av.sync"], ports, warmup, seconds, cancel);
            return new DecodeSplitResult(streams, single["all"] / streams, split.ToDictionary(kv => kv.Key, kv => kv.Value / streams), singleFps, splitFps);
        }
        finally
        {
            foreach (var s in senders)
            {
                if (!s.HasExited) s.Kill();
                s.Dispose();
            }
        }
    }

    private async Task<(Dictionary<string, double> Cores, double Fps)> MeasureAsync(string tag, IReadOnlyList<string> roles, List<int> ports, int warmup,
        int seconds, CancellationToken cancel)
    {
        var db = _pg.CreateDatabase(tag);
        var nodes = StartNodes(db, roles, synthetic: false);
        try
        {
            await WaitUpAsync(nodes, cancel);
            using var http = nodes[0].Http();
            for (var i = 0; i < ports.Count; i++)
                (await http.PostAsJsonAsync("/api/streams", new { id = $"live-{i}", url = $"udp://127.0.0.1:{ports[i]}?reuse=1" }, cancel)).EnsureSuccessStatusCode();
            await Task.Delay(TimeSpan.FromSeconds(warmup), cancel);
            var cpu0 = nodes.Select(n => n.CpuSeconds()).ToList();
            var frames0 = await FramesAsync(http, cancel);
            var wall = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancel);
            var cores = nodes.Select((n, i) => (n.Role, Cores: (n.CpuSeconds() - cpu0[i]) / wall.Elapsed.TotalSeconds)).ToDictionary(x => x.Role, x => x.Cores);
            var fps = (await FramesAsync(http, cancel) - frames0) / wall.Elapsed.TotalSeconds / ports.Count;
            return (cores, fps);
        }
        finally
        {
            foreach (var n in nodes) n.Kill();
        }
    }

    private static async Task<long> FramesAsync(HttpClient http, CancellationToken cancel)
    {
        var list = JsonNode.Parse(await http.GetStringAsync("/api/streams", cancel))!.AsArray();
        return list.Sum(s => s!["status"]!["frames_analysed"]!.GetValue<long>());
    }

    private List<Node> StartNodes(string db, IReadOnlyList<string> roles, bool synthetic)
    {
        var list = new List<Node>();
        int? seed = null;
        foreach (var role in roles)
        {
            var node = Node.Start(_work, db, role, seed, synthetic);
            seed ??= node.ClusterPort;
            list.Add(node);
            _nodes.Add(node);
        }
        return list;
    }

    private static async Task WaitUpAsync(List<Node> nodes, CancellationToken cancel)
    {
        foreach (var node in nodes)
            await WaitAsync(() => node.Up(), 120, $"node {node.Name} to be up", cancel);
    }

    private static async Task<long> StatementsAsync(List<Node> nodes, CancellationToken cancel)
    {
        long total = 0;
        foreach (var n in nodes)
        {
            if (!n.Alive) throw new InvalidOperationException($"fleet node {n.Name} exited with {n.ExitCode} during the run (downed: its heartbeats came too late?)");
            using var http = n.Http();
            var text = await http.GetStringAsync("/metrics", cancel);
            var line = text.Split('\n').First(l => l.StartsWith("vigil_fleet_store_statements_total ", StringComparison.Ordinal));
            total += long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
        return total;
    }

    private static long Reporting(string db, DateTime since) =>
        Count(db, "SELECT count(*) FROM pipelines WHERE heartbeat > @t AND status <> '{}'::jsonb", since);

    private static long Transactions(string db) =>
        Count(db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", null);

    private static long Count(string db, string sql, object? parameter)
    {
        using var c = new NpgsqlConnection(db);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        if (parameter is string s) cmd.Parameters.AddWithValue("n", s);
        if (parameter is DateTime t) cmd.Parameters.AddWithValue("t", t);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static async Task WaitAsync(Func<bool> condition, double seconds, string what, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(100, cancel);
        }
    }

    private static string KeyFile(string work) => Path.Combine(work, "secret-key");

    private static int FreeUdpPort()
    {
        using var socket = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var n in _nodes) n.Kill();
        _pg.Dispose();
        try { Directory.Delete(_work, recursive: true); }
        catch (IOException) { }
        return ValueTask.CompletedTask;
    }

    /// <summary>One <c>vigil serve</c> fleet node process.</summary>
    private sealed class Node
    {
        private readonly Process _process;
        private readonly int _httpPort;

        private Node(Process process, string name, string role, int clusterPort, int httpPort)
        {
            _process = process;
            Name = name;
            Role = role;
            ClusterPort = clusterPort;
            _httpPort = httpPort;
        }

        public string Name { get; }
        public string Role { get; }
        public int ClusterPort { get; }
        public bool Alive => !_process.HasExited;
        public int ExitCode => _process.ExitCode;

        public static Node Start(string work, string db, string role, int? seed, bool synthetic)
        {
            var http = FreeTcpPort();
            var cluster = FreeTcpPort();
            var vigil = Assembly.GetEntryAssembly()!.Location;
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            info.ArgumentList.Add(vigil);
            info.ArgumentList.Add("serve");
            var env = new Dictionary<string, string>
            {
                ["URLS"] = $"http://127.0.0.1:{http}",
                ["DATADIR"] = Path.Combine(work, $"node-{cluster}"),
                ["APIKEYS__0"] = "bench",
                ["SECRETKEYFILE"] = KeyFile(work),
                ["ALLOWLOCALINPUTS"] = "true",
                ["LOGGING__LOGLEVEL__DEFAULT"] = "Warning",
                ["CLUSTER__POSTGRES"] = db,
                ["CLUSTER__ROLE"] = role == "all" ? "" : role,
                ["CLUSTER__PORT"] = cluster.ToString(CultureInfo.InvariantCulture),
                ["CLUSTER__SEEDS__0"] = $"127.0.0.1:{seed ?? cluster}",
                ["CLUSTER__SYNTHETIC"] = synthetic ? "true" : "false",
            };
            foreach (var (key, value) in env) info.Environment["VIGIL_" + key] = value;
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new Node(process, $"127.0.0.1:{cluster}", role, cluster, http);
        }

        public HttpClient Http()
        {
            var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_httpPort}"), Timeout = TimeSpan.FromSeconds(120) }; // /metrics of thousands of pipelines on a busy machine
            client.DefaultRequestHeaders.Add("X-Api-Key", "bench");
            return client;
        }

        public bool Up()
        {
            if (_process.HasExited) throw new InvalidOperationException($"fleet node {Name} exited with {_process.ExitCode}");
            try
            {
                using var http = Http();
                return http.GetAsync("/healthz").GetAwaiter().GetResult().IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }

        public long RssBytes()
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            return 0;
        }

        public double CpuSeconds()
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }

        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }

        private static int FreeTcpPort()
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
