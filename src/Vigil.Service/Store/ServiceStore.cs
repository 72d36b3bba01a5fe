using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vigil.Service.Security;

namespace Vigil.Service.Store;

/// <summary>
/// The embedded store (SQLite, WAL): streams, every event, snapshots, webhooks and the webhook outbox.
/// An event and its outbox rows are committed in one transaction before anyone is told about the
/// event, so whatever a client has seen survives a crash (even <c>kill -9</c>). Writes go through one
/// connection under a lock (SQLite has one writer anyway); reads use pooled connections of their own.
/// The database file is created owner-only (0600), and SQLite gives its WAL and SHM files the same mode;
/// webhook secrets are stored sealed (<see cref="SecretBox"/>), never in clear.
/// </summary>
public sealed partial class ServiceStore : IServiceStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _gate = new();
    private SqliteTransaction? _tx; // the writer's open transaction; Microsoft.Data.Sqlite wants it on every command
    private long _lastSeq;
    private readonly SecretBox _secrets;
    private List<WebhookConfig> _webhooks = [];

    /// <param name="secrets">Seals webhook secrets; default: the key in <c>secret-key</c> beside the database (created when missing).</param>
    public ServiceStore(string path, SecretBox? secrets = null)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        _secrets = secrets ?? SecretBox.FromKeyFile(Path.Combine(folder, "secret-key"));
        // SQLite creates -wal and -shm with the database file's mode: make that 0600 before it opens it
        OwnerOnly.Touch(path);
        OwnerOnly.Restrict(path + "-wal");
        OwnerOnly.Restrict(path + "-shm");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS streams (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, detectors TEXT, settings TEXT NOT NULL,
                masks TEXT NOT NULL, paused INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                epoch REAL NOT NULL, position REAL NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
                start REAL NOT NULL, "end" REAL, snapshot TEXT, json TEXT NOT NULL, created_at TEXT NOT NULL, key TEXT);
            CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, seq);
            CREATE TABLE IF NOT EXISTS snapshots (id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, jpeg BLOB NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS webhooks (
                id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT, streams TEXT, kinds TEXT, created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL, stream_id TEXT NOT NULL, event_seq INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL, last_error TEXT);
            CREATE INDEX IF NOT EXISTS outbox_by_head ON outbox (webhook_id, stream_id, id);
            """);
        // the defect's identity (DefectKey) came after the first databases: add it to theirs
        if (Scalar<long>(_writer, "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'key'") == 0)
            Execute(_writer, "ALTER TABLE events ADD COLUMN key TEXT");
        // the programmes of a multiplex (issue 15) came after the first databases too
        if (Scalar<long>(_writer, "SELECT COUNT(*) FROM pragma_table_info('streams') WHERE name = 'program'") == 0)
            Execute(_writer, "ALTER TABLE streams ADD COLUMN program INTEGER; ALTER TABLE streams ADD COLUMN programs TEXT");
        CreateAlarmTables();
        _lastSeq = Scalar<long>(_writer, "SELECT IFNULL(MAX(seq), 0) FROM events");
        SealClearSecrets();
        _webhooks = ReadWebhooks(_writer);
    }

    // ---- streams ----

    public void InsertStream(StreamConfig s)
    {
        lock (_gate)
            Execute(_writer, """
                INSERT INTO streams (id, name, url, detectors, settings, masks, paused, created_at, updated_at, epoch, program, programs)
                VALUES ($id, $name, $url, $detectors, $settings, $masks, $paused, $created, $updated, $epoch, $program, $programs)
                """, StreamParameters(s));
    }

    /// <summary>Replaces a stream's definition; false when it does not exist.</summary>
    public bool UpdateStream(StreamConfig s)
    {
        lock (_gate)
            return Execute(_writer, """
                UPDATE streams SET name = $name, url = $url, detectors = $detectors, settings = $settings, masks = $masks,
                    paused = $paused, updated_at = $updated, program = $program, programs = $programs WHERE id = $id
                """, StreamParameters(s)) > 0;
    }

    public bool DeleteStream(string id)
    {
        lock (_gate) return Execute(_writer, "DELETE FROM streams WHERE id = $id", ("$id", id)) > 0;
    }

    /// <summary>Remembers the stream time reached, so events after a restart continue from it.</summary>
    public void SavePosition(string id, double position)
    {
        lock (_gate) Execute(_writer, "UPDATE streams SET position = MAX(position, $p) WHERE id = $id", ("$id", id), ("$p", position));
    }

    public double GetPosition(string id)
    {
        using var c = OpenReader();
        return Scalar<double?>(c, "SELECT position FROM streams WHERE id = $id", ("$id", id)) ?? 0;
    }

    public StreamConfig? GetStream(string id) => ReadStreams("WHERE id = $id", ("$id", id)).FirstOrDefault();

    public IReadOnlyList<StreamConfig> ListStreams() => ReadStreams("ORDER BY created_at, id");

    private List<StreamConfig> ReadStreams(string where, params (string, object?)[] parameters)
    {
        using var c = OpenReader();
        using var cmd = Command(c, $"SELECT id, name, url, detectors, settings, masks, paused, created_at, updated_at, epoch, program, programs FROM streams {where}", parameters);
        using var r = cmd.ExecuteReader();
        var list = new List<StreamConfig>();
        while (r.Read())
            list.Add(new StreamConfig(
                r.GetString(0), r.GetString(1), r.GetString(2),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(3)),
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(4)) ?? [],
                JsonSerializer.Deserialize<List<string>>(r.GetString(5)) ?? [],
                r.GetInt64(6) != 0,
                DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(r.GetString(8), CultureInfo.InvariantCulture),
                r.GetDouble(9))
            {
                Program = r.IsDBNull(10) ? null : r.GetInt32(10),
                Programs = r.IsDBNull(11) ? null : JsonSerializer.Deserialize<List<int>>(r.GetString(11)),
            });
        return list;
    }

    private static (string, object?)[] StreamParameters(StreamConfig s) =>
    [
        ("$id", s.Id), ("$name", s.Name), ("$url", s.Url),
        ("$detectors", s.Detectors is null ? null : JsonSerializer.Serialize(s.Detectors)),
        ("$settings", JsonSerializer.Serialize(s.Settings)), ("$masks", JsonSerializer.Serialize(s.Masks)),
        ("$paused", s.Paused ? 1 : 0), ("$created", s.CreatedAt.ToString("O")), ("$updated", s.UpdatedAt.ToString("O")),
        ("$epoch", s.Epoch), ("$program", s.Program), ("$programs", s.Programs is null ? null : JsonSerializer.Serialize(s.Programs)),
    ];

    // ---- events ----

    /// <summary>
    /// Stores one event and queues it for every matching webhook, in one transaction. The JSON is built
    /// with the event's sequence number (its <c>id</c>) inside the lock, so ids follow commit order.
    /// <paramref name="key"/> is the defect's identity (<c>DefectKey</c>), which pairs a <c>defect</c> with its <c>defect_start</c>.
    /// </summary>
    public StoredEvent AppendEvent(string streamId, string type, string kind, double start, double? end, string? snapshotId, Func<long, string> json,
        string? key = null)
    {
        lock (_gate)
        {
            var seq = _lastSeq + 1;
            var text = json(seq);
            InTransaction(() =>
            {
                Execute(_writer, """
                    INSERT INTO events (seq, stream_id, type, kind, start, "end", snapshot, json, created_at, key)
                    VALUES ($seq, $stream, $type, $kind, $start, $end, $snapshot, $json, $created, $key)
                    """, ("$seq", seq), ("$stream", streamId), ("$type", type), ("$kind", kind), ("$start", start), ("$end", end),
                    ("$snapshot", snapshotId), ("$json", text), ("$created", DateTimeOffset.UtcNow.ToString("O")), ("$key", key));
                var now = Now();
                foreach (var hook in _webhooks)
                    if (hook.Matches(streamId, kind))
                        Execute(_writer, "INSERT INTO outbox (webhook_id, stream_id, event_seq, next_attempt) VALUES ($w, $s, $e, $t)",
                            ("$w", hook.Id), ("$s", streamId), ("$e", seq), ("$t", now));
            });
            _lastSeq = seq;
            return new StoredEvent(seq, streamId, type, kind, start, end, snapshotId, text);
        }
    }

    /// <summary>Events in sequence order after <paramref name="afterSeq"/>, optionally of one stream and some kinds.</summary>
    public IReadOnlyList<StoredEvent> QueryEvents(string? streamId, IReadOnlyList<string>? kinds, long afterSeq, int limit)
    {
        using var c = OpenReader();
        var parameters = new List<(string, object?)> { ("$after", afterSeq), ("$stream", streamId), ("$limit", limit) };
        using var cmd = Command(c, $"""
            SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events
            WHERE seq > $after AND ($stream IS NULL OR stream_id = $stream) {KindClause(kinds, parameters)} ORDER BY seq LIMIT $limit
            """, parameters.ToArray());
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read()) list.Add(ReadEvent(r));
        return list;
    }

    /// <summary>An <c>AND (…)</c> clause matching kinds or families (<c>video</c> matches <c>video.black</c>); empty for no filter.</summary>
    private static string KindClause(IReadOnlyList<string>? kinds, List<(string, object?)> parameters)
    {
        if (kinds is not { Count: > 0 }) return "";
        var terms = new List<string>();
        for (var i = 0; i < kinds.Count; i++)
        {
            terms.Add($"kind = $k{i} COLLATE NOCASE OR kind LIKE $f{i} ESCAPE '\\'");
            parameters.Add(($"$k{i}", kinds[i]));
            parameters.Add(($"$f{i}", kinds[i].Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + ".%"));
        }
        return $"AND ({string.Join(" OR ", terms)})";
    }

    /// <summary>
    /// <c>defect_start</c> events of a stream with no <c>defect</c> closing them: what was open when the
    /// process died without a chance to flush its detectors. A <c>defect</c> closes the <c>defect_start</c>
    /// of the same identity (two channels silent from one instant are two defects); rows stored before
    /// identities were kept pair by kind and start.
    /// </summary>
    public IReadOnlyList<StoredEvent> OpenDefects(string streamId)
    {
        using var c = OpenReader();
        using var cmd = Command(c, """
            SELECT s.seq, s.stream_id, s.type, s.kind, s.start, s."end", s.snapshot, s.json FROM events s
            WHERE s.stream_id = $stream AND s.type = 'defect_start' AND NOT EXISTS (
                SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.type = 'defect' AND e.kind = s.kind
                    AND abs(e.start - s.start) < 0.0005 AND e.seq > s.seq AND (e.key IS NULL OR s.key IS NULL OR e.key = s.key))
            ORDER BY s.seq
            """, ("$stream", streamId));
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read()) list.Add(ReadEvent(r));
        return list;
    }

    public long LastSeq
    {
        get { lock (_gate) return _lastSeq; }
    }

    private static StoredEvent ReadEvent(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7));

    // ---- snapshots ----

    public void PutSnapshot(string id, string streamId, byte[] jpeg)
    {
        lock (_gate)
            Execute(_writer, "INSERT OR REPLACE INTO snapshots (id, stream_id, jpeg, created_at) VALUES ($id, $s, $j, $t)",
                ("$id", id), ("$s", streamId), ("$j", jpeg), ("$t", DateTimeOffset.UtcNow.ToString("O")));
    }

    public byte[]? GetSnapshot(string id)
    {
        using var c = OpenReader();
        return Scalar<byte[]?>(c, "SELECT jpeg FROM snapshots WHERE id = $id", ("$id", id));
    }

    // ---- webhooks and outbox ----

    public IReadOnlyList<WebhookConfig> Webhooks
    {
        get { lock (_gate) return _webhooks; }
    }

    public void InsertWebhook(WebhookConfig w)
    {
        lock (_gate)
        {
            Execute(_writer, "INSERT INTO webhooks (id, url, secret, streams, kinds, created_at) VALUES ($id, $url, $secret, $streams, $kinds, $t)",
                ("$id", w.Id), ("$url", w.Url), ("$secret", string.IsNullOrEmpty(w.Secret) ? null : _secrets.Seal(w.Secret, w.Id)),
                ("$streams", w.Streams is null ? null : JsonSerializer.Serialize(w.Streams)),
                ("$kinds", w.Kinds is null ? null : JsonSerializer.Serialize(w.Kinds)), ("$t", w.CreatedAt.ToString("O")));
            _webhooks = ReadWebhooks(_writer);
        }
    }

    public bool DeleteWebhook(string id)
    {
        lock (_gate)
        {
            var deleted = false;
            InTransaction(() =>
            {
                deleted = Execute(_writer, "DELETE FROM webhooks WHERE id = $id", ("$id", id)) > 0;
                Execute(_writer, "DELETE FROM outbox WHERE webhook_id = $id", ("$id", id));
            });
            _webhooks = ReadWebhooks(_writer);
            return deleted;
        }
    }

    /// <summary>
    /// Deliveries due now: for each (webhook, stream) only the oldest undelivered event, so a receiver
    /// gets each stream's events in order however long it was away.
    /// </summary>
    public IReadOnlyList<OutboxItem> DueDeliveries(int limit)
    {
        using var c = OpenReader();
        using var cmd = Command(c, """
            SELECT o.id, o.webhook_id, w.url, o.stream_id, o.event_seq, o.attempts, e.json
            FROM (SELECT webhook_id, stream_id, MIN(id) AS head FROM outbox GROUP BY webhook_id, stream_id) h
            JOIN outbox o ON o.id = h.head
            JOIN webhooks w ON w.id = o.webhook_id
            JOIN events e ON e.seq = o.event_seq
            WHERE o.next_attempt <= $now ORDER BY o.id LIMIT $limit
            """, ("$now", Now()), ("$limit", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxItem>();
        var hooks = Webhooks; // secrets come from the unsealed copy in memory
        while (r.Read())
        {
            var webhookId = r.GetString(1);
            list.Add(new OutboxItem(r.GetInt64(0), webhookId, r.GetString(2), hooks.FirstOrDefault(h => h.Id == webhookId)?.Secret,
                r.GetString(3), r.GetInt64(4), r.GetInt32(5), r.GetString(6)));
        }
        return list;
    }

    public void Delivered(long outboxId)
    {
        lock (_gate) Execute(_writer, "DELETE FROM outbox WHERE id = $id", ("$id", outboxId));
    }

    public void DeliveryFailed(long outboxId, int attempts, double retryAfterSeconds, string error)
    {
        lock (_gate)
            Execute(_writer, "UPDATE outbox SET attempts = $a, next_attempt = $t, last_error = $e WHERE id = $id",
                ("$id", outboxId), ("$a", attempts), ("$t", Now() + retryAfterSeconds), ("$e", error));
    }

    /// <summary>Per webhook with anything pending: how many deliveries, and when (Unix seconds) the oldest one's event was stored.</summary>
    public IReadOnlyList<(string WebhookId, long Pending, double OldestStored)> OutboxBacklog()
    {
        using var c = OpenReader();
        using var cmd = Command(c, """
            SELECT h.webhook_id, h.pending, e.created_at
            FROM (SELECT webhook_id, COUNT(*) AS pending, MIN(id) AS head FROM outbox GROUP BY webhook_id) h
            JOIN outbox o ON o.id = h.head
            JOIN events e ON e.seq = o.event_seq
            ORDER BY h.webhook_id
            """);
        using var r = cmd.ExecuteReader();
        var list = new List<(string, long, double)>();
        while (r.Read())
            list.Add((r.GetString(0), r.GetInt64(1),
                DateTimeOffset.Parse(r.GetString(2), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0));
        return list;
    }

    /// <summary>A receiver answered again: its other pending deliveries (other streams' heads) are due now, not at their own backoff.</summary>
    public void RetryNow(string webhookId)
    {
        lock (_gate) Execute(_writer, "UPDATE outbox SET next_attempt = $t WHERE webhook_id = $w AND next_attempt > $t", ("$w", webhookId), ("$t", Now()));
    }

    public long PendingDeliveries()
    {
        using var c = OpenReader();
        return Scalar<long>(c, "SELECT COUNT(*) FROM outbox");
    }

    public void Dispose()
    {
        lock (_gate) _writer.Dispose();
    }

    // ---- plumbing ----

    private void InTransaction(Action body)
    {
        using var tx = _tx = _writer.BeginTransaction();
        try
        {
            body();
            tx.Commit();
        }
        finally
        {
            _tx = null;
        }
    }

    /// <summary>Seals webhook secrets an older version stored in clear.</summary>
    private void SealClearSecrets()
    {
        var clear = new List<(string Id, string Secret)>();
        using (var cmd = Command(_writer, "SELECT id, secret FROM webhooks WHERE secret IS NOT NULL"))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                if (!SecretBox.IsSealed(r.GetString(1))) clear.Add((r.GetString(0), r.GetString(1)));
        if (clear.Count == 0) return;
        // secure_delete overwrites the old cells, the checkpoint takes the clear text out of the WAL
        Execute(_writer, "PRAGMA secure_delete = ON");
        foreach (var (id, secret) in clear)
            Execute(_writer, "UPDATE webhooks SET secret = $s WHERE id = $id", ("$id", id), ("$s", _secrets.Seal(secret, id)));
        Execute(_writer, "PRAGMA wal_checkpoint(TRUNCATE)");
        Execute(_writer, "PRAGMA secure_delete = OFF");
    }

    private string? Unseal(string id, string? stored)
    {
        if (stored is null) return null;
        try
        {
            return _secrets.Open(stored, id);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException(
                $"webhook {id}: its secret was sealed with another key than this store's secret-key file; restore that file, or delete the webhook");
        }
    }

    private List<WebhookConfig> ReadWebhooks(SqliteConnection c)
    {
        using var cmd = Command(c, "SELECT id, url, secret, streams, kinds, created_at FROM webhooks ORDER BY created_at, id");
        using var r = cmd.ExecuteReader();
        var list = new List<WebhookConfig>();
        while (r.Read())
            list.Add(new WebhookConfig(r.GetString(0), r.GetString(1), Unseal(r.GetString(0), r.IsDBNull(2) ? null : r.GetString(2)),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(3)),
                r.IsDBNull(4) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(4)),
                DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture)));
        return list;
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private SqliteConnection OpenReader()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        return c;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private int Execute(SqliteConnection c, string sql, params (string, object?)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        if (c == _writer) cmd.Transaction = _tx;
        return cmd.ExecuteNonQuery();
    }

    private static T Scalar<T>(SqliteConnection c, string sql, params (string, object?)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        var value = cmd.ExecuteScalar();
        if (value is null or DBNull) return default!;
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)(type == typeof(byte[]) ? value : System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture));
    }
}
