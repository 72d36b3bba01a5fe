using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Vigil.Service;
using Vigil.Service.Api;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Tests.Service;

/// <summary>The service's security parts on their own: URL redaction, the SSRF address policy, sealed secrets, keys, limits.</summary>
public sealed class SecurityUnitTests
{
    [Theory]
    [InlineData("http://cdn.example.com/live/index.m3u8?token=abc123&expires=99", "http://cdn.example.com/live/index.m3u8?token=***&expires=***")]
    [InlineData("https://user:p4ss@cdn.example.com:8443/a.m3u8", "https://***@cdn.example.com:8443/a.m3u8")]
    [InlineData("srt://10.0.0.5:9000?mode=caller&passphrase=verysecret123&streamid=#!::r=live/key,m=request", "srt://10.0.0.5:9000?mode=***&passphrase=***&streamid=#***")]
    [InlineData("rtmp://ingest.example.com/live/sk_live_0123456789", "rtmp://ingest.example.com/live/***")]
    [InlineData("rtmps://ingest.example.com:443/app/key/extra?auth=x", "rtmps://ingest.example.com:443/app/***?auth=***")]
    [InlineData("rtmp://ingest.example.com/live", "rtmp://ingest.example.com/live")]
    [InlineData("udp://239.0.0.1:5000", "udp://239.0.0.1:5000")]
    [InlineData("http://cdn.example.com/a.m3u8?signature", "http://cdn.example.com/a.m3u8?***")]
    [InlineData("/srv/media/clip.ts", "/srv/media/clip.ts")]
    public void Redact_StreamUrls_KeepTheFeedLoseTheSecrets(string url, string expected) =>
        Assert.Equal(expected, UrlRedaction.Redact(url));

    [Fact]
    public void Scrub_ErrorMessageQuotingTheUrl_RedactsItInPlace()
    {
        var text = "Stream s-1 input failed: http://127.0.0.1:1/live.m3u8?token=hunter2: Connection refused; also rtmp://h/app/key9";
        var scrubbed = UrlRedaction.Scrub(text);
        Assert.DoesNotContain("hunter2", scrubbed);
        Assert.DoesNotContain("key9", scrubbed);
        Assert.Contains("Connection refused", scrubbed);
        Assert.Contains("http://127.0.0.1:1/live.m3u8?token=***", scrubbed);
    }

    [Theory]
    [InlineData("169.254.169.254", "metadata")]
    [InlineData("::ffff:169.254.169.254", "metadata")]
    [InlineData("64:ff9b::a9fe:a9fe", "metadata")]
    [InlineData("fd00:ec2::254", "metadata")]
    [InlineData("100.100.100.200", "metadata")]
    [InlineData("169.254.1.1", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.20.0.1", "private")]
    [InlineData("192.168.0.10", "private")]
    [InlineData("100.64.0.1", "shared")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("224.0.0.1", "multicast")]
    public void WebhookPolicy_InternalAddress_Refused(string address, string why)
    {
        var refusal = NetworkPolicy.ForWebhooks([]).Refusal(IPAddress.Parse(address));
        Assert.NotNull(refusal);
        Assert.Contains(why, refusal);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c")]
    public void WebhookPolicy_PublicAddress_Allowed(string address) =>
        Assert.Null(NetworkPolicy.ForWebhooks([]).Refusal(IPAddress.Parse(address)));

    [Fact]
    public void WebhookPolicy_AllowList_LetsItsNetworksInButNeverMetadata()
    {
        var policy = NetworkPolicy.ForWebhooks(["127.0.0.0/8", "10.20.0.0/16", "169.254.0.0/16", "fd00:ec2::/32"]);
        Assert.Null(policy.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.Null(policy.Refusal(IPAddress.Parse("10.20.3.4")));
        Assert.Null(policy.Refusal(IPAddress.Parse("169.254.10.10")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("10.21.0.1")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("::1"))); // 127.0.0.0/8 does not cover IPv6 loopback
        Assert.Contains("metadata", policy.Refusal(IPAddress.Parse("169.254.169.254")));
        Assert.Contains("metadata", policy.Refusal(IPAddress.Parse("fd00:ec2::254")));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.7")]
    [InlineData("192.168.1.20")]
    [InlineData("239.0.0.1")]
    [InlineData("0.0.0.0")]
    public void InputPolicy_LoopbackPrivateMulticast_Allowed(string address) =>
        Assert.Null(NetworkPolicy.ForInputs([]).Refusal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.7.7")]
    [InlineData("fe80::abcd")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.100.100.200")]
    public void InputPolicy_LinkLocalAndMetadata_Refused(string address) =>
        Assert.NotNull(NetworkPolicy.ForInputs([]).Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Policy_BadAllowListEntry_FailsNamingIt()
    {
        var e = Assert.Throws<FormatException>(() => NetworkPolicy.ForWebhooks(["10.0.0.0/33"]));
        Assert.Contains("10.0.0.0/33", e.Message);
    }

    [Fact]
    public async Task InputPolicy_HostNameResolvingToMetadata_Refused()
    {
        // stands in for DNS, which tests cannot make return a metadata address: the check is on what the name resolves to
        var policy = new InputPolicy(new ServiceOptions(), NetworkPolicy.ForInputs([], (host, _) =>
            Task.FromResult(host == "metadata.example.test" ? [IPAddress.Parse("169.254.169.254")] : new[] { IPAddress.Parse("192.0.2.10") })));
        var refused = await policy.CheckAsync("http://metadata.example.test/latest/meta-data/", CancellationToken.None);
        Assert.Contains("metadata.example.test resolves to 169.254.169.254", refused);
        Assert.Null(await policy.CheckAsync("http://cdn.example.test/live.m3u8", CancellationToken.None));
    }

    [Fact]
    public async Task GuardedConnect_NameRebindsToInternalAddress_RefusedWithoutConnecting()
    {
        // a listener on loopback counts connections: the rebinding name points at it, and nothing must arrive
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var lookups = 0;
        var policy = NetworkPolicy.ForWebhooks([], (_, _) =>
        {
            lookups++;
            return Task.FromResult(new[] { IPAddress.Loopback }); // what a rebinding DNS answers at connect time
        });
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = policy.GuardedConnect, UseProxy = false });
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://rebind.example.test:{port}/hook"));
        Assert.Contains("rebind.example.test resolves to 127.0.0.1 (loopback)", e.ToString());
        Assert.Equal(1, lookups);
        Assert.False(listener.Pending(), "a connection reached the listener");
    }

    [Fact]
    public async Task GuardedConnect_AllowedAddress_ConnectsToTheCheckedAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var policy = NetworkPolicy.ForWebhooks(["127.0.0.1/32"], (_, _) => Task.FromResult(new[] { IPAddress.Loopback }));
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = policy.GuardedConnect, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var request = http.GetAsync($"http://receiver.example.test:{port}/hook");
        using var accepted = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)accepted.Client.RemoteEndPoint!).Address);
        accepted.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => request); // closed without an answer
    }

    [Fact]
    public void SecretBox_SealOpen_RoundTripsAndBindsToItsOwner()
    {
        var box = new SecretBox(RandomNumberGenerator.GetBytes(32));
        var sealedValue = box.Seal("whsec_0123456789", "w-1");
        Assert.True(SecretBox.IsSealed(sealedValue));
        Assert.DoesNotContain("whsec", sealedValue);
        Assert.NotEqual(sealedValue, box.Seal("whsec_0123456789", "w-1")); // a fresh nonce each time
        Assert.Equal("whsec_0123456789", box.Open(sealedValue, "w-1"));
        Assert.ThrowsAny<CryptographicException>(() => box.Open(sealedValue, "w-2"));
        Assert.ThrowsAny<CryptographicException>(() => new SecretBox(RandomNumberGenerator.GetBytes(32)).Open(sealedValue, "w-1"));
    }

    [Fact]
    public void SecretBox_KeyFile_CreatedOwnerOnlyAndReused()
    {
        var dir = Support.Net.TempDir("secretbox");
        try
        {
            var path = Path.Combine(dir, "secret-key");
            var sealedValue = SecretBox.FromKeyFile(path).Seal("s3cret", "w-1");
            Assert.Equal(OwnerOnly.FileMode, Support.Net.Mode(path));
            Assert.Equal("s3cret", SecretBox.FromKeyFile(path).Open(sealedValue, "w-1"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Store_ClearSecretFromOlderVersion_SealedAtOpenAndGoneFromTheFile()
    {
        var dir = Support.Net.TempDir("store-secret");
        try
        {
            var db = Path.Combine(dir, "vigil.db");
            using (var store = new ServiceStore(db))
                store.InsertWebhook(new WebhookConfig("w-old", "http://127.0.0.1:9/hook", null, null, null, DateTimeOffset.UtcNow));
            // what an older version wrote: the secret in clear
            using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db}"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "UPDATE webhooks SET secret = 'clear-text-secret-42' WHERE id = 'w-old'";
                cmd.ExecuteNonQuery();
            }
            using (var store = new ServiceStore(db))
                Assert.Equal("clear-text-secret-42", store.Webhooks.Single().Secret);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in Directory.EnumerateFiles(dir, "vigil.db*"))
                Assert.DoesNotContain("clear-text-secret-42", File.ReadAllText(file, System.Text.Encoding.Latin1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AccessKeys_Identify_TellsKindAndIdNeverTheKey()
    {
        var keys = new AccessKeys(["admin-secret"], ["read-secret-a", "read-secret-b"]);
        Assert.Equal((Access.Admin, "admin-0"), keys.Identify("admin-secret"));
        Assert.Equal((Access.Read, "read-1"), keys.Identify("read-secret-b"));
        Assert.Null(keys.Identify("read-secret"));
        Assert.Null(keys.Identify(""));
    }

    [Fact]
    public void KindFilter_Problem_KnownKindsAndFamiliesPassOthersNamed()
    {
        Assert.Null(KindFilter.Problem(["video", "audio.silence", "stream.stall", "ts.pat_error", "AV"]));
        Assert.Null(KindFilter.Problem(null));
        Assert.Contains("'video.blurry'", KindFilter.Problem(["video", "video.blurry"]));
        Assert.Contains("'vid'", KindFilter.Problem(["vid"]));
    }

    [Fact]
    public void LiveConnectionLimits_PerKeyThenTotal_429Then503AndReleased()
    {
        var limits = new LiveConnectionLimits(new ServiceOptions { MaxSseConnections = 3, MaxSseConnectionsPerKey = 2 });
        var a1 = limits.TryOpen("a").Lease!;
        var a2 = limits.TryOpen("a").Lease!;
        Assert.Equal(429, limits.TryOpen("a").Status);
        var b1 = limits.TryOpen("b").Lease!;
        Assert.Equal(503, limits.TryOpen("b").Status);
        a1.Dispose();
        a1.Dispose(); // twice is harmless
        Assert.NotNull(limits.TryOpen("b").Lease);
        Assert.Equal(3, limits.Open);
        Assert.Equal(2, limits.Refused);
        a2.Dispose();
        b1.Dispose();
    }
}
