using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Cluster.Support;

/// <summary>
/// One fleet node for a test: <c>dotnet vigil.dll serve</c> as a child process with cluster settings in
/// its environment, on free 127.0.0.1 ports, so that a test can <c>kill -9</c> it or stop it with SIGTERM.
/// </summary>
internal sealed class FleetNode : IAsyncDisposable
{
    public const string ApiKey = "fleet-test-key-0123456789";

    private readonly Process _process;
    private readonly List<string> _log = [];

    private FleetNode(Process process, string name, string role, int clusterPort, HttpClient http, string dataDir)
    {
        _process = process;
        Name = name;
        Role = role;
        ClusterPort = clusterPort;
        Http = http;
        DataDir = dataDir;
    }

    public string Name { get; }
    public string Role { get; }
    public int ClusterPort { get; }
    public HttpClient Http { get; }
    public string DataDir { get; }
    public bool Alive => !_process.HasExited;

    /// <summary>The last lines the node logged (for a failure message).</summary>
    public string Tail
    {
        get { lock (_log) return string.Join('\n', _log.TakeLast(30)); }
    }

    /// <summary>Starts a node of <paramref name="role"/>; <paramref name="seedPort"/> null: it is the first seed itself.</summary>
    public static FleetNode Start(string postgres, string role, int? seedPort, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = Net.FreeTcpPort();
        var clusterPort = Net.FreeTcpPort();
        var data = Net.TempDir("fleet-node");
        // one key seals webhook secrets for the whole fleet (a node with another key refuses to start): made before any node starts
        var keyFile = Path.Combine(Path.GetTempPath(), $"vigil-fleet-key-{Math.Abs(postgres.GetHashCode())}");
        Vigil.Service.Security.SecretBox.FromKeyFile(keyFile);
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vigil.dll"));
        info.ArgumentList.Add("serve");
        var env = new Dictionary<string, string>
        {
            ["URLS"] = $"http://127.0.0.1:{port}",
            ["DATADIR"] = data,
            ["APIKEYS__0"] = ApiKey,
            ["ALLOWLOCALINPUTS"] = "true",
            ["RECONNECTMINSECONDS"] = "0.3",
            ["RECONNECTMAXSECONDS"] = "1",
            ["WEBHOOKMINBACKOFFSECONDS"] = "0.2",
            ["WEBHOOKMAXBACKOFFSECONDS"] = "1",
            ["WEBHOOKTIMEOUTSECONDS"] = "3",
            ["WEBHOOKALLOWEDNETWORKS__0"] = "127.0.0.0/8", // the test's receiver listens on loopback
            ["SECRETKEYFILE"] = keyFile,
            ["LOGGING__LOGLEVEL__DEFAULT"] = "Warning",
            ["LOGGING__LOGLEVEL__VIGIL.FLEET.CONTINUITY"] = "Information",
            ["CLUSTER__POSTGRES"] = postgres,
            ["CLUSTER__ROLE"] = role,
            ["CLUSTER__PORT"] = clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CLUSTER__SEEDS__0"] = $"127.0.0.1:{seedPort ?? clusterPort}",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) env[key] = value;
        foreach (var (key, value) in env) info.Environment["VIGIL_" + key] = value;
        var process = Process.Start(info)!;
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var node = new FleetNode(process, $"127.0.0.1:{clusterPort}", role, clusterPort, http, data);
        process.OutputDataReceived += (_, e) => node.Note(e.Data);
        process.ErrorDataReceived += (_, e) => node.Note(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private void Note(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Add(line);
            if (_log.Count > 500) _log.RemoveRange(0, 100);
        }
    }

    /// <summary>Waits until the node is an Up member (its /healthz answers 200).</summary>
    public Task WaitUpAsync(double seconds = 90) => Net.WaitUntilAsync(async () =>
    {
        if (_process.HasExited) Assert.Fail($"fleet node {Name} exited with {_process.ExitCode}:\n{Tail}");
        try
        {
            using var response = await Http.GetAsync("/healthz");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }, seconds, $"fleet node {Name} ({Role}) to be up");

    /// <summary>The (stream, group) pipelines this node runs now, with their state.</summary>
    public async Task<List<(string Stream, string Group, string State)>> LocalAsync()
    {
        var list = JsonNode.Parse(await Http.GetStringAsync("/api/fleet/local"))!.AsArray();
        return list.Select(p => (p!["stream"]!.GetValue<string>(), p["group"]!.GetValue<string>(), p["state"]!.GetValue<string>())).ToList();
    }

    public async Task<string> AddStreamAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/api/streams", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"POST /api/streams: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary><c>kill -9</c>.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a pod; waits for the exit.</summary>
    public async Task<int> TerminateAsync(double seconds = 40)
    {
        if (_process.HasExited) return _process.ExitCode;
        Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            Assert.Fail($"fleet node {Name} did not exit within {seconds} s of SIGTERM:\n{Tail}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
