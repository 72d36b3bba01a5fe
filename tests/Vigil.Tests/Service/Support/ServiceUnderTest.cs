using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service;
using Vigil.Tests.Support;

namespace Vigil.Tests.Service.Support;

/// <summary>
/// <c>vigil serve</c> on 127.0.0.1 for a test: in this process (a WebApplication on a free port) or as a
/// child process (<c>dotnet vigil.dll serve</c>) that a test can <c>kill -9</c>. Either way it keeps its
/// data folder across <see cref="RestartAsync()"/>, as a real restart would.
/// </summary>
internal sealed class ServiceUnderTest : IAsyncDisposable
{
    /// <summary>The admin key <see cref="SendAsync"/> sends.</summary>
    public const string ApiKey = "test-key-0123456789";

    /// <summary>The read-only key <see cref="Http"/> sends on every request.</summary>
    public const string ReadKey = "test-read-key-9876543210";

    private readonly bool _childProcess;
    private readonly Dictionary<string, string?> _settings;
    private WebApplication? _app;
    private Process? _process;

    private readonly string? _configFile;

    private ServiceUnderTest(bool childProcess, Dictionary<string, string?> settings, string? configFile)
    {
        _childProcess = childProcess;
        _configFile = configFile;
        _settings = settings;
        DataDir = settings["DataDir"]!;
    }

    public string DataDir { get; }

    /// <summary>A client that sends the read key: what a dashboard or scraper sees.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>A client that sends no key.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>What the child process printed (stdout and stderr, logs), as lines; empty for an in-process service.</summary>
    public IReadOnlyList<string> Output
    {
        get { lock (_output) return _output.ToList(); }
    }

    private readonly List<string> _output = [];

    /// <summary>Exit code of the child process after the last graceful <see cref="StopAsync"/>.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Starts the service with test defaults (short segments and backoffs) plus <paramref name="settings"/>.</summary>
    public static async Task<ServiceUnderTest> StartAsync(bool childProcess = false, IReadOnlyDictionary<string, string?>? settings = null,
        string? configFile = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["DataDir"] = Net.TempDir("serve"),
            ["ApiKeys:0"] = ApiKey,
            ["ReadKeys:0"] = ReadKey,
            ["WebhookAllowedNetworks:0"] = "127.0.0.0/8", // test receivers listen on loopback, which webhooks may not reach by default
            ["ReconnectMinSeconds"] = "0.3",
            ["ReconnectMaxSeconds"] = "2",
            ["WebhookMinBackoffSeconds"] = "0.2",
            ["WebhookMaxBackoffSeconds"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        foreach (var (key, value) in all.Where(kv => kv.Value is null).ToList()) all.Remove(key); // null: leave it to the config file
        var service = new ServiceUnderTest(childProcess, all, configFile);
        await service.LaunchAsync();
        return service;
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    /// <summary>Restarts with some settings changed (a null value removes one), keeping the data folder.</summary>
    public async Task RestartAsync(IReadOnlyDictionary<string, string?> changes)
    {
        await StopAsync();
        foreach (var (key, value) in changes)
            if (value is null) _settings.Remove(key);
            else _settings[key] = value;
        await LaunchAsync();
    }

    /// <summary>Graceful stop (in process) or SIGTERM (child).</summary>
    public async Task StopAsync()
    {
        Http?.Dispose();
        Anonymous?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
                if (!_process.WaitForExit(20_000)) _process.Kill();
                ExitCode = _process.ExitCode;
            }
            _process.Dispose();
            _process = null;
        }
    }

    /// <summary><c>kill -9</c>: the child process dies with no chance to flush or close anything.</summary>
    public void KillHard()
    {
        Assert.True(_childProcess, "only a child-process service can be killed");
        _process!.Kill(); // SIGKILL on Unix
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
        Http.Dispose();
        Anonymous.Dispose();
    }

    private async Task LaunchAsync()
    {
        var port = Net.FreeTcpPort();
        _settings["Urls"] = $"http://127.0.0.1:{port}";
        if (_childProcess)
        {
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(VigilCli.Assembly);
            info.ArgumentList.Add("serve");
            if (_configFile is not null)
            {
                info.ArgumentList.Add("--config");
                info.ArgumentList.Add(_configFile);
            }
            foreach (var (key, value) in _settings) info.Environment["VIGIL_" + key.Replace(":", "__")] = value;
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => Capture(e.Data);
            _process.ErrorDataReceived += (_, e) => Capture(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }
        else
        {
            _app = VigilServer.Build(_configFile, _settings);
            await _app.StartAsync();
        }
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Add("X-Api-Key", ReadKey);
        Anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        await Net.WaitUntilAsync(async () =>
        {
            if (_process is { HasExited: true }) Assert.Fail($"vigil serve exited with {_process.ExitCode}:\n{string.Join("\n", Output.TakeLast(20))}");
            try
            {
                return (await Http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, 60, "vigil serve to answer /healthz");
    }

    private void Capture(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    /// <summary>A call with the admin key (or <paramref name="key"/>; null: no key at all).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? key = ApiKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        if (body is string raw) request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        return Anonymous.SendAsync(request);
    }

    /// <summary>Adds a stream and returns its id; fails the test on any answer but 201.</summary>
    public async Task<string> AddStreamAsync(object body)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/streams", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"POST /api/streams: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    public async Task<JsonNode> GetJsonAsync(string path) => JsonNode.Parse(await Http.GetStringAsync(path))!;

    /// <summary>Every stored event (GET /api/events), oldest first.</summary>
    public async Task<List<JsonNode>> EventsAsync(string? stream = null)
    {
        var text = await Http.GetStringAsync(stream is null ? "/api/events?limit=10000" : $"/api/events?limit=10000&stream={stream}");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>Reads a Server-Sent Events response into a list that tests wait on.</summary>
internal sealed class SseListener : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly List<(long Id, string Type, JsonNode Data)> _events = [];
    private readonly Dictionary<long, DateTimeOffset> _received = [];

    private SseListener(HttpClient http, string path) => _reader = Task.Run(() => ReadAsync(http, path));

    public static SseListener Open(HttpClient http, string path = "/api/events/live") => new(http, path);

    public IReadOnlyList<(long Id, string Type, JsonNode Data)> Events
    {
        get { lock (_events) return _events.ToList(); }
    }

    /// <summary>When the event with <paramref name="id"/> arrived here (wall clock).</summary>
    public DateTimeOffset ReceivedAt(long id)
    {
        lock (_events) return _received[id];
    }

    /// <summary>The first event from index <paramref name="from"/> on that matches.</summary>
    public async Task<(long Id, string Type, JsonNode Data)> WaitForAsync(Func<(long Id, string Type, JsonNode Data), bool> match, double seconds, string what,
        int from = 0)
    {
        (long, string, JsonNode)? found = null;
        await Net.WaitUntilAsync(() =>
        {
            if (_reader.IsFaulted) Assert.Fail($"SSE reader failed: {_reader.Exception}");
            found = Events.Skip(from).Cast<(long, string, JsonNode)?>().FirstOrDefault(e => match(e!.Value));
            return found is not null;
        }, seconds, what);
        return found!.Value;
    }

    private async Task ReadAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token));
        long id = 0;
        string type = "message", data = "";
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0)
                        lock (_events)
                        {
                            _events.Add((id, type, JsonNode.Parse(data)!));
                            _received[id] = DateTimeOffset.UtcNow;
                        }
                    (type, data) = ("message", "");
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..]);
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data += line[6..];
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>Contract checks on one event line as the service publishes it.</summary>
internal static class EventAssert
{
    public static void Shape(JsonNode e, string streamId)
    {
        var type = e["event"]!.GetValue<string>();
        Assert.Contains(type, new[] { "defect_start", "defect" });
        Assert.Equal(streamId, e["stream_id"]!.GetValue<string>());
        Assert.True(e["id"]!.GetValue<long>() > 0);
        Assert.False(string.IsNullOrEmpty(e["kind"]!.GetValue<string>()));
        var start = e["start"]!.GetValue<double>();
        Assert.True(start >= 0);
        if (type == "defect") Assert.True(e["end"]!.GetValue<double>() >= start);
        else Assert.Null(e["end"]);
        var confidence = e["confidence"]!.GetValue<double>();
        Assert.InRange(confidence, 0, 1);
        Assert.NotNull(e["time"]);
    }

    public static string Kind(this JsonNode e) => e["kind"]!.GetValue<string>();

    public static string Type(this JsonNode e) => e["event"]!.GetValue<string>();

    public static long Id(this JsonNode e) => e["id"]!.GetValue<long>();
}

/// <summary>A webhook receiver on a fixed 127.0.0.1 port that can be stopped and started again (as a receiver that goes away).</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly List<(long Id, JsonNode Body)> _received = [];
    private readonly List<(long Id, DateTime At, string? Stream)> _arrivals = [];
    private WebApplication? _app;

    public WebhookReceiver() => Port = Net.FreeTcpPort();

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    public IReadOnlyList<(long Id, JsonNode Body)> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    /// <summary>When each request arrived (UTC) with its <c>Vigil-Stream-Id</c>, in arrival order.</summary>
    public IReadOnlyList<(long Id, DateTime At, string? Stream)> Arrivals
    {
        get { lock (_received) return _arrivals.ToList(); }
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hook", async (Microsoft.AspNetCore.Http.HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
            var id = long.Parse(request.Headers["Vigil-Event-Id"]!);
            Assert.Equal(id, body["id"]!.GetValue<long>());
            lock (_received)
            {
                _received.Add((id, body));
                _arrivals.Add((id, DateTime.UtcNow, request.Headers["Vigil-Stream-Id"]));
            }
            return Microsoft.AspNetCore.Http.Results.Ok();
        });
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

internal static class JsonText
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
