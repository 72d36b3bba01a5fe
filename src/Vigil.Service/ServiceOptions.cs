namespace Vigil.Service;

/// <summary>
/// Settings of <c>vigil serve</c>, bound from the configuration file (JSON) and <c>VIGIL_</c> environment
/// variables (<c>VIGIL_DATADIR</c>, <c>VIGIL_APIKEYS__0</c>, <c>VIGIL_STORAGE__S3__BUCKET</c>, …).
/// </summary>
public sealed class ServiceOptions
{
    /// <summary>Addresses to listen on, separated by <c>;</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Where the SQLite database, snapshots and (by default) results live.</summary>
    public string DataDir { get; set; } = "vigil-data";

    /// <summary>
    /// Admin keys: read and change everything, see stream URLs in full. Sent as <c>X-Api-Key: KEY</c> or
    /// <c>Authorization: Bearer KEY</c>. Empty: one is generated into DataDir/api-key (mode 0600).
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// Read-only keys (dashboards, Prometheus scrapers): every GET, with stream URLs redacted. Empty: one
    /// is generated into DataDir/read-key (mode 0600).
    /// </summary>
    public List<string> ReadKeys { get; set; } = [];

    /// <summary>Lets reads (GET) through without a key, for a trusted network; writes still need an admin key. Default off.</summary>
    public bool OpenReads { get; set; }

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.20.0.0/16</c>, <c>127.0.0.1/32</c>) webhooks may reach although they are
    /// loopback, private or link-local, which are refused by default. Cloud metadata addresses stay refused.
    /// </summary>
    public List<string> WebhookAllowedNetworks { get; set; } = [];

    /// <summary>
    /// Link-local networks (CIDR) streams may come from although they are refused by default (e.g. a camera
    /// on 169.254.0.0/16). Cloud metadata addresses stay refused.
    /// </summary>
    public List<string> InputAllowedNetworks { get; set; } = [];

    /// <summary>The AES key that seals webhook secrets in the store; default DataDir/secret-key (created, mode 0600).</summary>
    public string? SecretKeyFile { get; set; }

    /// <summary>Largest request body accepted (bytes); a larger one gets 413.</summary>
    public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>Live event (SSE) connections open at once over all clients; one more gets 503.</summary>
    public int MaxSseConnections { get; set; } = 256;

    /// <summary>Live event (SSE) connections open at once per key (per client address for open reads); one more gets 429.</summary>
    public int MaxSseConnectionsPerKey { get; set; } = 32;

    /// <summary>
    /// URL schemes streams may use; empty means <see cref="DefaultSchemes"/>. <c>file:</c>, bare paths and
    /// local devices need <see cref="AllowLocalInputs"/> whatever this says.
    /// </summary>
    public List<string> AllowedSchemes { get; set; } = [];

    public static IReadOnlyList<string> DefaultSchemes { get; } = ["http", "https", "srt", "udp", "rtp", "rtmp", "rtmps", "rtsp", "tcp"];

    /// <summary>Lets the API add files, devices and FFmpeg's local pseudo-protocols (tests, demos on a trusted host).</summary>
    public bool AllowLocalInputs { get; set; }

    /// <summary>No media for this long is a <c>stream.stall</c>; also the read timeout of live inputs.</summary>
    public double StallSeconds { get; set; } = 2.0;

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectMaxSeconds"/>.</summary>
    public double ReconnectMinSeconds { get; set; } = 0.5;

    public double ReconnectMaxSeconds { get; set; } = 30;

    /// <summary>Opening a live input (connect, probe) gives up after this long.</summary>
    public double OpenTimeoutSeconds { get; set; } = 15;

    /// <summary>Items queued between a stream's converter and its detectors before the oldest are shed.</summary>
    public int QueueCapacity { get; set; } = 128;

    /// <summary>Length of a results segment (one object per stream per segment), aligned to the wall clock.</summary>
    public double SegmentSeconds { get; set; } = 60;

    /// <summary>Webhook retries back off from this delay, doubling up to <see cref="WebhookMaxBackoffSeconds"/>.</summary>
    public double WebhookMinBackoffSeconds { get; set; } = 0.5;

    /// <summary>
    /// Longest wait between attempts to a receiver that is down: also how late, at most, the first delivery
    /// comes after it is back.
    /// </summary>
    public double WebhookMaxBackoffSeconds { get; set; } = 5;

    /// <summary>One webhook request (connect, send, answer) gives up after this long.</summary>
    public double WebhookTimeoutSeconds { get; set; } = 10;

    /// <summary>Connecting to a webhook receiver gives up after this long (a receiver that drops packets fails fast).</summary>
    public double WebhookConnectTimeoutSeconds { get; set; } = 3;

    /// <summary>Base of absolute links in events (snapshots); empty: links are relative (<c>/api/snapshots/…</c>).</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>A stream's thumbnail (the dashboard's mosaic) is encoded at most once per this many seconds, however many clients ask.</summary>
    public double ThumbnailSeconds { get; set; } = 1.0;

    /// <summary>Logs as JSON lines (one object per entry) rather than text.</summary>
    public bool JsonLogs { get; set; }

    public StorageOptions Storage { get; set; } = new();

    /// <summary>This node's name in a fleet (events carry it as <c>node</c>); empty for one process.</summary>
    public string Node { get; set; } = "";
}

/// <summary>Where per-segment results go: a local folder by default, an S3-compatible bucket when <see cref="S3"/> has a bucket.</summary>
public sealed class StorageOptions
{
    /// <summary>Folder for results when no S3 bucket is configured; default DataDir/results.</summary>
    public string? Folder { get; set; }

    /// <summary>Key prefix for every results object.</summary>
    public string Prefix { get; set; } = "";

    public S3Options S3 { get; set; } = new();
}

/// <summary>An S3-compatible object store.</summary>
public sealed class S3Options
{
    public string? Bucket { get; set; }
    /// <summary>Endpoint of an S3-compatible server (e.g. http://127.0.0.1:4568); empty: AWS itself, by region.</summary>
    public string? ServiceUrl { get; set; }
    public string Region { get; set; } = "us-east-1";
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    /// <summary>Path-style addressing (bucket in the path), which most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; set; } = true;
    /// <summary>Create the bucket at start when it does not exist.</summary>
    public bool CreateBucket { get; set; } = true;
}
