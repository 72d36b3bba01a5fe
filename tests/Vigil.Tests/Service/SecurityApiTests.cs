using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Vigil.Service.Security;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Service;

/// <summary>
/// The service's security model end to end: reads need a key (read-only or admin), OpenReads opens reads
/// only, secrets (URL tokens, SRT passphrases, RTMP keys, webhook secrets) reach no one but an admin — not
/// the API, logs, results, metrics or the database file — and the data folder is owner-only.
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class SecurityApiTests
{
    private static readonly Dictionary<string, string?> QuickOpen = new() { ["OpenTimeoutSeconds"] = "1" };

    // nothing listens on port 1 of loopback: these inputs fail to open, quoting their URL in the error
    private const string HlsWithToken = "http://127.0.0.1:1/live/index.m3u8?token=tok_SECRET_hls_1234";
    private const string RtmpWithKey = "rtmp://127.0.0.1:1/live/sk_SECRET_rtmp_5678";
    private const string SrtWithPassphrase = "srt://127.0.0.1:1?mode=caller&passphrase=SECRETsrtpass9";
    private static readonly string[] Secrets = ["tok_SECRET_hls_1234", "sk_SECRET_rtmp_5678", "SECRETsrtpass9"];

    [Theory]
    [InlineData("/api/streams")]
    [InlineData("/api/events")]
    [InlineData("/api/events/live")]
    [InlineData("/api/webhooks")]
    [InlineData("/api/detectors")]
    [InlineData("/metrics")]
    [InlineData("/api/snapshots/none")]
    public async Task Reads_WithoutKey_401_WithReadKey_Allowed(string path)
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using (var anonymous = await service.Anonymous.GetAsync(path, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("X-Api-Key", await anonymous.Content.ReadAsStringAsync());
        }
        using (var wrong = await service.SendAsync(HttpMethod.Get, path, key: "not-a-key"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var read = await service.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(read.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {(int)read.StatusCode}");
    }

    [Fact]
    public async Task Writes_WithReadKey_403_BearerAdminKey_Allowed()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        using (var read = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "udp://127.0.0.1:9" }, ServiceUnderTest.ReadKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
            Assert.Contains("admin key", await read.Content.ReadAsStringAsync());
        }
        using var bearer = new HttpRequestMessage(HttpMethod.Post, "/api/streams") { Content = new StringContent("""{"url":"udp://127.0.0.1:9"}""", Encoding.UTF8, "application/json") };
        bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServiceUnderTest.ApiKey);
        using var created = await service.Anonymous.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task OpenReads_AnonymousReadsAllowed_WritesAndWrongKeysStillRefused()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>(QuickOpen) { ["OpenReads"] = "true" });
        using (var streams = await service.Anonymous.GetAsync("/api/streams"))
            Assert.Equal(HttpStatusCode.OK, streams.StatusCode);
        using (var write = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "udp://127.0.0.1:9" }, key: null))
            Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        using (var wrong = await service.SendAsync(HttpMethod.Get, "/api/streams", key: "typo-key"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Health_WithoutKey_OnlyStatus_WithReadKey_Counts()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var open = JsonNode.Parse(await service.Anonymous.GetStringAsync("/healthz"))!.AsObject();
        Assert.Equal("ok", open["status"]!.GetValue<string>());
        Assert.Single(open);
        Assert.NotNull((await service.GetJsonAsync("/healthz"))["pending_webhooks"]);
    }

    [Fact]
    public async Task GeneratedKeys_WrittenOwnerOnly_AndWork()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>(QuickOpen) { ["ApiKeys:0"] = null, ["ReadKeys:0"] = null });
        var admin = File.ReadAllText(Path.Combine(service.DataDir, "api-key")).Trim();
        var read = File.ReadAllText(Path.Combine(service.DataDir, "read-key")).Trim();
        Assert.NotEqual(admin, read);
        Assert.Equal(OwnerOnly.FileMode, Net.Mode(Path.Combine(service.DataDir, "api-key")));
        Assert.Equal(OwnerOnly.FileMode, Net.Mode(Path.Combine(service.DataDir, "read-key")));
        using (var r = await service.SendAsync(HttpMethod.Get, "/api/streams", key: read)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var w = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "udp://127.0.0.1:9" }, read)) Assert.Equal(HttpStatusCode.Forbidden, w.StatusCode);
        using (var a = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url = "udp://127.0.0.1:9" }, admin)) Assert.Equal(HttpStatusCode.Created, a.StatusCode);
    }

    /// <summary>
    /// Streams with a token, an RTMP key and an SRT passphrase fail to open (nothing listens), so their URLs
    /// travel through every path a URL can take: the API, the error text, the log, results, metrics.
    /// Only the admin sees them; the webhook secret reaches nobody and is not in the database file.
    /// </summary>
    [Fact]
    public async Task Secrets_InUrlsAndWebhooks_OnlyAdminSeesUrls_NothingElseHoldsThem()
    {
        await using var service = await ServiceUnderTest.StartAsync(childProcess: true, settings: new Dictionary<string, string?>
        {
            ["OpenTimeoutSeconds"] = "1",
            ["SegmentSeconds"] = "1",
            ["Logging:LogLevel:Default"] = "Information",
        });
        var ids = new List<string>();
        foreach (var url in new[] { HlsWithToken, RtmpWithKey, SrtWithPassphrase })
        {
            using var created = await service.SendAsync(HttpMethod.Post, "/api/streams", new { url });
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, body);
            Assert.Equal(url, JsonNode.Parse(body)!["url"]!.GetValue<string>()); // the admin who added it sees it whole
            ids.Add(JsonNode.Parse(body)!["id"]!.GetValue<string>());
        }
        const string webhookSecret = "whsec_SECRET_hook_0000";
        using (var hook = await service.SendAsync(HttpMethod.Post, "/api/webhooks", new { url = "http://127.0.0.1:9/hook?sig=SECRETq", secret = webhookSecret }))
        {
            var text = await hook.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Created, hook.StatusCode);
            Assert.DoesNotContain(webhookSecret, text);
            Assert.True(JsonNode.Parse(text)!["signed"]!.GetValue<bool>());
        }

        // every stream failed at least once (its error quotes the URL) and a results segment was written
        await Net.WaitUntilAsync(async () =>
        {
            using var all = await service.SendAsync(HttpMethod.Get, "/api/streams");
            var list = JsonNode.Parse(await all.Content.ReadAsStringAsync())!.AsArray();
            return list.All(s => s!["status"]!["last_error"] is not null);
        }, 60, "every stream to fail once");
        var results = Path.Combine(service.DataDir, "results");
        await Net.WaitUntilAsync(() => ids.All(id => Directory.Exists(Path.Combine(results, id))
            && Directory.EnumerateFiles(Path.Combine(results, id), "*.json", SearchOption.AllDirectories).Any()), 30, "a results segment per stream");

        using (var adminView = await service.SendAsync(HttpMethod.Get, "/api/streams"))
        {
            var text = await adminView.Content.ReadAsStringAsync();
            Assert.All(Secrets, secret => Assert.Contains(secret, text));
        }
        var seenByReaders = new Dictionary<string, string>
        {
            ["GET /api/streams (read key)"] = await service.Http.GetStringAsync("/api/streams"),
            ["GET /api/streams/{id} (read key)"] = await service.Http.GetStringAsync($"/api/streams/{ids[0]}"),
            ["GET /api/webhooks (read key)"] = await service.Http.GetStringAsync("/api/webhooks"),
            ["GET /api/webhooks (admin key)"] = await (await service.SendAsync(HttpMethod.Get, "/api/webhooks")).Content.ReadAsStringAsync(),
            ["/metrics"] = await service.Http.GetStringAsync("/metrics"),
            ["results"] = string.Join("\n", Directory.EnumerateFiles(results, "*.json", SearchOption.AllDirectories).Select(File.ReadAllText)),
        };
        foreach (var (where, text) in seenByReaders)
            foreach (var secret in Secrets.Append(webhookSecret).Append("SECRETq").Where(s => !(where.Contains("admin") && s == "SECRETq")))
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} holds {secret}:\n{text}");
        Assert.Contains("token=***", seenByReaders["GET /api/streams (read key)"]);
        Assert.Contains("rtmp://127.0.0.1:1/live/***", seenByReaders["GET /api/streams (read key)"]);
        Assert.Contains("passphrase=***", seenByReaders["GET /api/streams (read key)"]);

        await service.StopAsync();
        var log = string.Join("\n", service.Output);
        Assert.Contains("input failed", log); // the lines that quote the URL were written...
        foreach (var secret in Secrets.Append(webhookSecret).Append("SECRETq"))
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"the log holds {secret}:\n{log}"); // ...without the secret

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(service.DataDir, "vigil.db*"))
            Assert.False(File.ReadAllText(file, Encoding.Latin1).Contains(webhookSecret, StringComparison.Ordinal), $"{file} holds the webhook secret in clear");

        // data folder owner-only: every folder 0700, every file 0600 (database, WAL/SHM, keys, results)
        Assert.Equal(OwnerOnly.FolderMode, Net.Mode(service.DataDir));
        var entries = Directory.EnumerateFileSystemEntries(service.DataDir, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(entries, e => e.EndsWith("vigil.db", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.EndsWith("secret-key", StringComparison.Ordinal));
        foreach (var entry in entries)
            Assert.True(Net.Mode(entry) == (Directory.Exists(entry) ? OwnerOnly.FolderMode : OwnerOnly.FileMode),
                $"{entry} is {Net.Mode(entry)}");
    }

    [Fact]
    public async Task DatabaseWalAndShm_WhileRunning_OwnerOnly()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        await service.AddStreamAsync(new { url = "udp://127.0.0.1:9" }); // a write: the WAL exists
        foreach (var name in new[] { "vigil.db", "vigil.db-wal", "vigil.db-shm", "secret-key" })
        {
            var path = Path.Combine(service.DataDir, name);
            Assert.True(File.Exists(path), $"{name} exists");
            Assert.Equal(OwnerOnly.FileMode, Net.Mode(path));
        }
    }

    [Fact]
    public async Task OpenApi_DeclaresTheKeySchemes_PerOperation()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: QuickOpen);
        var doc = JsonNode.Parse(await service.Anonymous.GetStringAsync("/openapi/v1.json"))!; // public: it describes, it holds no data
        var schemes = doc["components"]!["securitySchemes"]!;
        Assert.Equal("apiKey", schemes["ApiKey"]!["type"]!.GetValue<string>());
        Assert.Equal("header", schemes["ApiKey"]!["in"]!.GetValue<string>());
        Assert.Equal("X-Api-Key", schemes["ApiKey"]!["name"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["Bearer"]!["scheme"]!.GetValue<string>());
        var post = doc["paths"]!["/api/streams"]!["post"]!;
        Assert.Contains(post["security"]!.AsArray(), r => r!.AsObject().ContainsKey("ApiKey"));
        Assert.Contains("admin key", post["description"]!.GetValue<string>());
        Assert.NotNull(post["responses"]!["403"]);
        var list = doc["paths"]!["/api/streams"]!["get"]!;
        Assert.Contains("read key", list["description"]!.GetValue<string>());
        Assert.Null(doc["paths"]!["/healthz"]!["get"]!["security"]);
    }
}
