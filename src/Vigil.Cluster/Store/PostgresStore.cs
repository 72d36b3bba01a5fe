using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Cluster.Store;

/// <summary>
/// The fleet's shared store (PostgreSQL): streams, events, snapshots, webhooks and the outbox, as the
/// embedded store keeps them, plus what the fleet needs: the roles ever seen, where each (stream, group)
/// runs, and counters. Every node writes here.
/// <list type="bullet">
/// <item>Event ids come from a one-row counter updated inside the event's transaction: the row lock
/// serialises event commits fleet-wide, so ids are committed in increasing order and a reader that
/// resumes after id N never misses an earlier id committed later.</item>
/// <item>Each event has an identity (kind, stream index, programme, channel, start); a second
/// <c>defect_start</c> or <c>defect</c> with the same identity is refused, so a defect is never
/// reported twice, whatever a failover does.</item>
/// <item>The transaction notifies <c>vigil_events</c>; <see cref="EventFeed"/> listens and announces
/// every node's events in id order (<see cref="IEventFeed"/>).</item>
/// <item>Webhook deliveries are claimed with a lease (<c>FOR UPDATE SKIP LOCKED</c>), so each is
/// attempted by one node at a time and taken over when its node dies.</item>
/// <item>Webhook secrets are sealed (<see cref="SecretBox"/>): every node must use the same <c>SecretKeyFile</c>
/// (checked when the store opens: a node with another key refuses to start).</item>
/// <item>Stream positions are buffered and written in one statement a second (<see cref="FlushPositions"/>).</item>
/// </list>
/// </summary>
public sealed partial class PostgresStore : IServiceStore, IEventFeed, IDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly string _node;
    private readonly double _leaseSeconds;
    private readonly SecretBox _secrets;
    private readonly ConcurrentDictionary<string, double> _positions = new(StringComparer.Ordinal);
    private long _statements;

    /// <param name="secrets">Seals webhook secrets; the same key on every node (default: a random one, good for one process only).</param>
    public PostgresStore(string connectionString, string node, double leaseSeconds, ILoggerFactory? logs = null, SecretBox? secrets = null)
    {
        _secrets = secrets ?? new SecretBox(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (logs is not null) builder.UseLoggerFactory(logs);
        _db = builder.Build();
        _node = node;
        _leaseSeconds = leaseSeconds;
        try
        {
            Migrate();
        }
        catch
        {
            _db.Dispose();
            throw;
        }
        Feed = new EventFeed(_db, LastSeq, this, logs?.CreateLogger("Vigil.Fleet.Events"));
    }

    /// <summary>The live feed of every node's events; start it with the host.</summary>
    public EventFeed Feed { get; }

    public event Action<StoredEvent>? Appended
    {
        add => Feed.Appended += value;
        remove => Feed.Appended -= value;
    }

    /// <summary>SQL statements this process has sent (for <c>/metrics</c> and the benchmark).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    internal NpgsqlDataSource DataSource => _db;

    internal void Count(int statements = 1) => Interlocked.Add(ref _statements, statements);

    private void Migrate()
    {
        using var c = Open();
        // nodes start together: one migrates at a time
        Execute(c, "SELECT pg_advisory_lock(727001)");
        try
        {
            Execute(c, """
                CREATE TABLE IF NOT EXISTS streams (
                    id text PRIMARY KEY, name text NOT NULL, url text NOT NULL, detectors jsonb, settings jsonb NOT NULL,
                    masks jsonb NOT NULL, paused boolean NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
                    epoch double precision NOT NULL, position double precision NOT NULL DEFAULT 0);
                ALTER TABLE streams ADD COLUMN IF NOT EXISTS program integer;
                ALTER TABLE streams ADD COLUMN IF NOT EXISTS programs jsonb;
                CREATE TABLE IF NOT EXISTS event_counter (one boolean PRIMARY KEY DEFAULT true CHECK (one), last bigint NOT NULL);
                INSERT INTO event_counter VALUES (true, 0) ON CONFLICT DO NOTHING;
                CREATE TABLE IF NOT EXISTS events (
                    seq bigint PRIMARY KEY, stream_id text NOT NULL, type text NOT NULL, kind text NOT NULL,
                    start double precision NOT NULL, "end" double precision, snapshot text, node text, identity text NOT NULL,
                    json text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, seq);
                CREATE UNIQUE INDEX IF NOT EXISTS events_once ON events (stream_id, type, identity);
                CREATE TABLE IF NOT EXISTS snapshots (id text PRIMARY KEY, stream_id text NOT NULL, jpeg bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE IF NOT EXISTS webhooks (
                    id text PRIMARY KEY, url text NOT NULL, secret text, streams jsonb, kinds jsonb, created_at timestamptz NOT NULL);
                CREATE TABLE IF NOT EXISTS outbox (
                    id bigserial PRIMARY KEY, webhook_id text NOT NULL, stream_id text NOT NULL, event_seq bigint NOT NULL,
                    attempts int NOT NULL DEFAULT 0, next_attempt double precision NOT NULL, last_error text,
                    leased_by text, lease_until double precision);
                CREATE INDEX IF NOT EXISTS outbox_by_head ON outbox (webhook_id, stream_id, id);
                CREATE TABLE IF NOT EXISTS fleet_roles (role text PRIMARY KEY, first_seen timestamptz NOT NULL DEFAULT now());
                CREATE TABLE IF NOT EXISTS pipelines (
                    stream_id text NOT NULL, grp text NOT NULL, node text NOT NULL, status jsonb NOT NULL,
                    heartbeat timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (stream_id, grp));
                CREATE TABLE IF NOT EXISTS fleet_counters (name text PRIMARY KEY, value bigint NOT NULL);
                CREATE TABLE IF NOT EXISTS fleet_key_check (one boolean PRIMARY KEY DEFAULT true CHECK (one), sealed text NOT NULL);
                CREATE TABLE IF NOT EXISTS acknowledgements (
                    stream_id text NOT NULL, identity text NOT NULL, event_seq bigint NOT NULL, who text NOT NULL, key_id text,
                    at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (stream_id, identity));
                CREATE INDEX IF NOT EXISTS events_ended ON events (seq) WHERE type = 'defect';
                """);
            CheckSealingKey(c);
        }
        finally
        {
            Execute(c, "SELECT pg_advisory_unlock(727001)");
        }
    }

    /// <summary>
    /// Every node must seal webhook secrets with the same key, or deliveries would be signed with secrets it
    /// cannot open: the first node seals a known text into the store, every later one must open it, or it
    /// refuses to start (at once, with the fix in the message, rather than fail each delivery later).
    /// </summary>
    private void CheckSealingKey(NpgsqlConnection c)
    {
        Execute(c, "INSERT INTO fleet_key_check (sealed) VALUES (@s) ON CONFLICT DO NOTHING", ("s", _secrets.Seal(KeyCheckText, KeyCheckText)));
        var stored = Scalar<string>(c, "SELECT sealed FROM fleet_key_check");
        try
        {
            if (_secrets.Open(stored, KeyCheckText) == KeyCheckText) return;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
        }
        throw new InvalidOperationException(
            "this node's SecretKeyFile holds another key than the fleet's: every node must use the same key file (copy it from the first node)");
    }

    private const string KeyCheckText = "vigil-fleet-key-check";

    // ---- streams ----

    public void InsertStream(StreamConfig s)
    {
        using var c = Open();
        Execute(c, """
            INSERT INTO streams (id, name, url, detectors, settings, masks, paused, created_at, updated_at, epoch, program, programs)
            VALUES (@id, @name, @url, @detectors, @settings, @masks, @paused, @created, @updated, @epoch, @program, @programs)
            """, StreamParameters(s));
    }

    public bool UpdateStream(StreamConfig s)
    {
        using var c = Open();
        return Execute(c, """
            UPDATE streams SET name = @name, url = @url, detectors = @detectors, settings = @settings, masks = @masks,
                paused = @paused, updated_at = @updated, program = @program, programs = @programs WHERE id = @id
            """, StreamParameters(s)) > 0;
    }

    public bool DeleteStream(string id)
    {
        using var c = Open();
        return Execute(c, "DELETE FROM streams WHERE id = @id", ("id", id)) > 0;
    }

    /// <summary>Buffered: written with every other position of this node by <see cref="FlushPositions"/>.</summary>
    public void SavePosition(string id, double position) =>
        _positions.AddOrUpdate(id, position, (_, old) => Math.Max(old, position));

    public double GetPosition(string id)
    {
        var saved = _positions.GetValueOrDefault(id);
        using var c = Open();
        return Math.Max(saved, Scalar<double?>(c, "SELECT position FROM streams WHERE id = @id", ("id", id)) ?? 0);
    }

    /// <summary>Writes the buffered positions in one statement; positions only grow.</summary>
    public void FlushPositions()
    {
        if (_positions.IsEmpty) return;
        var ids = new List<string>();
        var values = new List<double>();
        foreach (var id in _positions.Keys.ToList())
            if (_positions.TryRemove(id, out var p))
            {
                ids.Add(id);
                values.Add(p);
            }
        using var c = Open();
        using var cmd = Command(c, """
            UPDATE streams s SET position = GREATEST(s.position, v.p) FROM unnest(@ids, @ps) AS v(id, p) WHERE s.id = v.id
            """);
        cmd.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("ps", NpgsqlDbType.Array | NpgsqlDbType.Double) { Value = values.ToArray() });
        cmd.ExecuteNonQuery();
    }

    public StreamConfig? GetStream(string id) => ReadStreams("WHERE id = @id", ("id", id)).FirstOrDefault();

    public IReadOnlyList<StreamConfig> ListStreams() => ReadStreams("ORDER BY created_at, id");

    private List<StreamConfig> ReadStreams(string where, params (string, object?)[] parameters)
    {
        using var c = Open();
        using var cmd = Command(c, $"SELECT id, name, url, detectors::text, settings::text, masks::text, paused, created_at, updated_at, epoch, program, programs::text FROM streams {where}", parameters);
        using var r = cmd.ExecuteReader();
        var list = new List<StreamConfig>();
        while (r.Read())
            list.Add(new StreamConfig(
                r.GetString(0), r.GetString(1), r.GetString(2),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(3)),
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(4)) ?? [],
                JsonSerializer.Deserialize<List<string>>(r.GetString(5)) ?? [],
                r.GetBoolean(6),
                new DateTimeOffset(r.GetDateTime(7), TimeSpan.Zero),
                new DateTimeOffset(r.GetDateTime(8), TimeSpan.Zero),
                r.GetDouble(9))
            {
                Program = r.IsDBNull(10) ? null : r.GetInt32(10),
                Programs = r.IsDBNull(11) ? null : JsonSerializer.Deserialize<List<int>>(r.GetString(11)),
            });
        return list;
    }

    private static (string, object?)[] StreamParameters(StreamConfig s) =>
    [
        ("id", s.Id), ("name", s.Name), ("url", s.Url),
        ("detectors", Json(s.Detectors)), ("settings", Json(s.Settings)), ("masks", Json(s.Masks)),
        ("paused", s.Paused), ("created", s.CreatedAt.UtcDateTime), ("updated", s.UpdatedAt.UtcDateTime), ("epoch", s.Epoch),
        ("program", s.Program), ("programs", Json(s.Programs)),
    ];

    private static JsonbText? Json(object? value) => value is null ? null : new JsonbText(JsonSerializer.Serialize(value));

    // ---- events ----

    public StoredEvent? AppendEvent(string streamId, string type, string kind, double start, double? end, string? snapshotId, Func<long, string> json,
        string? key = null)
    {
        var probe = json(0);
        var identity = key ?? EventIdentity.Of(probe);
        var node = EventIdentity.Node(probe);
        using var c = Open();
        using var tx = c.BeginTransaction();
        // the counter's row lock orders event commits fleet-wide: taken first, held to the commit
        var seq = Scalar<long>(c, "UPDATE event_counter SET last = last + 1 RETURNING last", tx);
        if (Scalar<long?>(c, "SELECT 1 FROM events WHERE stream_id = @s AND type = @t AND identity = @i", tx,
                ("s", streamId), ("t", type), ("i", identity)) is not null)
        {
            tx.Rollback();
            return null; // reported already (by this node or the one before a failover)
        }
        var text = json(seq);
        var hooks = ReadWebhooks(c, tx, unseal: false).Where(h => h.Matches(streamId, kind)).ToList();
        using (var batch = new NpgsqlBatch(c, tx))
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO events (seq, stream_id, type, kind, start, "end", snapshot, node, identity, json)
                VALUES (@seq, @s, @t, @k, @start, @end, @snap, @node, @i, @json)
                """);
            Add(insert, ("seq", seq), ("s", streamId), ("t", type), ("k", kind), ("start", start), ("end", end), ("snap", snapshotId),
                ("node", node), ("i", identity), ("json", text));
            batch.BatchCommands.Add(insert);
            foreach (var hook in hooks)
            {
                var outbox = new NpgsqlBatchCommand("INSERT INTO outbox (webhook_id, stream_id, event_seq, next_attempt) VALUES (@w, @s, @e, @t)");
                Add(outbox, ("w", hook.Id), ("s", streamId), ("e", seq), ("t", Now()));
                batch.BatchCommands.Add(outbox);
            }
            var notify = new NpgsqlBatchCommand("SELECT pg_notify('vigil_events', @seq)");
            Add(notify, ("seq", seq.ToString(CultureInfo.InvariantCulture)));
            batch.BatchCommands.Add(notify);
            Count(batch.BatchCommands.Count);
            batch.ExecuteNonQuery();
        }
        tx.Commit();
        Count();
        return new StoredEvent(seq, streamId, type, kind, start, end, snapshotId, text);
    }

    public IReadOnlyList<StoredEvent> QueryEvents(string? streamId, IReadOnlyList<string>? kinds, long afterSeq, int limit)
    {
        var parameters = new List<(string, object?)> { ("after", afterSeq), ("stream", streamId), ("limit", limit) };
        using var c = Open();
        using var cmd = Command(c, $"""
            SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events
            WHERE seq > @after AND (@stream::text IS NULL OR stream_id = @stream) {KindClause(kinds, parameters)} ORDER BY seq LIMIT @limit
            """, parameters.ToArray());
        return ReadEvents(cmd);
    }

    /// <summary>An <c>AND (…)</c> clause matching kinds or families (<c>video</c> matches <c>video.black</c>), any case; empty for no filter.</summary>
    private static string KindClause(IReadOnlyList<string>? kinds, List<(string, object?)> parameters)
    {
        if (kinds is not { Count: > 0 }) return "";
        var terms = new List<string>();
        for (var i = 0; i < kinds.Count; i++)
        {
            terms.Add($"lower(kind) = lower(@k{i}) OR lower(kind) LIKE lower(@f{i}) ESCAPE '\\'");
            parameters.Add(($"k{i}", kinds[i]));
            parameters.Add(($"f{i}", kinds[i].Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + ".%"));
        }
        return $"AND ({string.Join(" OR ", terms)})";
    }

    public IReadOnlyList<StoredEvent> OpenDefects(string streamId)
    {
        using var c = Open();
        using var cmd = Command(c, """
            SELECT s.seq, s.stream_id, s.type, s.kind, s.start, s."end", s.snapshot, s.json FROM events s
            WHERE s.stream_id = @s AND s.type = 'defect_start' AND NOT EXISTS (
                SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.type = 'defect' AND e.identity = s.identity)
            ORDER BY s.seq
            """, ("s", streamId));
        return ReadEvents(cmd);
    }

    public long LastSeq
    {
        get
        {
            using var c = Open();
            return Scalar<long>(c, "SELECT last FROM event_counter");
        }
    }

    internal List<StoredEvent> ReadEvents(NpgsqlCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read())
            list.Add(new StoredEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDouble(4),
                r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7)));
        return list;
    }

    // ---- snapshots ----

    public void PutSnapshot(string id, string streamId, byte[] jpeg)
    {
        using var c = Open();
        Execute(c, "INSERT INTO snapshots (id, stream_id, jpeg) VALUES (@id, @s, @j) ON CONFLICT (id) DO UPDATE SET jpeg = excluded.jpeg",
            ("id", id), ("s", streamId), ("j", jpeg));
    }

    public byte[]? GetSnapshot(string id)
    {
        using var c = Open();
        return Scalar<byte[]?>(c, "SELECT jpeg FROM snapshots WHERE id = @id", ("id", id));
    }

    // ---- webhooks and outbox ----

    public IReadOnlyList<WebhookConfig> Webhooks
    {
        get
        {
            using var c = Open();
            return ReadWebhooks(c, null, unseal: true);
        }
    }

    public void InsertWebhook(WebhookConfig w)
    {
        using var c = Open();
        Execute(c, "INSERT INTO webhooks (id, url, secret, streams, kinds, created_at) VALUES (@id, @url, @secret, @streams, @kinds, @t)",
            ("id", w.Id), ("url", w.Url), ("secret", string.IsNullOrEmpty(w.Secret) ? null : _secrets.Seal(w.Secret, w.Id)), ("streams", Json(w.Streams)), ("kinds", Json(w.Kinds)), ("t", w.CreatedAt.UtcDateTime));
    }

    public bool DeleteWebhook(string id)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var deleted = Execute(c, "DELETE FROM webhooks WHERE id = @id", tx, ("id", id)) > 0;
        Execute(c, "DELETE FROM outbox WHERE webhook_id = @id", tx, ("id", id));
        tx.Commit();
        return deleted;
    }

    /// <summary>
    /// Claims due deliveries for this node: the oldest undelivered event of each (webhook, stream) whose
    /// row no other node holds a live lease on. Another node's lease runs out when that node dies mid-delivery.
    /// </summary>
    public IReadOnlyList<OutboxItem> DueDeliveries(int limit)
    {
        var now = Now();
        using var c = Open();
        using var cmd = Command(c, """
            WITH heads AS (
                SELECT DISTINCT ON (webhook_id, stream_id) id FROM outbox ORDER BY webhook_id, stream_id, id
            ), claim AS (
                SELECT o.id FROM outbox o JOIN heads h ON h.id = o.id
                WHERE o.next_attempt <= @now AND (o.lease_until IS NULL OR o.lease_until < @now)
                ORDER BY o.id LIMIT @limit FOR UPDATE OF o SKIP LOCKED
            )
            UPDATE outbox o SET leased_by = @node, lease_until = @until
            FROM claim, webhooks w, events e
            WHERE o.id = claim.id AND w.id = o.webhook_id AND e.seq = o.event_seq
            RETURNING o.id, o.webhook_id, w.url, w.secret, o.stream_id, o.event_seq, o.attempts, e.json
            """, ("now", now), ("limit", limit), ("node", _node), ("until", now + _leaseSeconds));
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxItem>();
        while (r.Read())
            list.Add(new OutboxItem(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : Unseal(r.GetString(3), r.GetString(1)),
                r.GetString(4), r.GetInt64(5), r.GetInt32(6), r.GetString(7))); // the secret is stored sealed: the signature needs it opened
        return list.OrderBy(i => i.Id).ToList();
    }

    public void Delivered(long outboxId)
    {
        using var c = Open();
        Execute(c, "DELETE FROM outbox WHERE id = @id", ("id", outboxId));
    }

    public void DeliveryFailed(long outboxId, int attempts, double retryAfterSeconds, string error)
    {
        using var c = Open();
        Execute(c, "UPDATE outbox SET attempts = @a, next_attempt = @t, last_error = @e, leased_by = NULL, lease_until = NULL WHERE id = @id",
            ("id", outboxId), ("a", attempts), ("t", Now() + retryAfterSeconds), ("e", error));
    }

    public long PendingDeliveries()
    {
        using var c = Open();
        return Scalar<long>(c, "SELECT COUNT(*) FROM outbox");
    }

    public IReadOnlyList<(string WebhookId, long Pending, double OldestStored)> OutboxBacklog()
    {
        using var c = Open();
        using var cmd = Command(c, """
            SELECT h.webhook_id, h.pending, extract(epoch FROM e.created_at)::double precision
            FROM (SELECT webhook_id, COUNT(*) AS pending, MIN(id) AS head FROM outbox GROUP BY webhook_id) h
            JOIN outbox o ON o.id = h.head
            JOIN events e ON e.seq = o.event_seq
            ORDER BY h.webhook_id
            """);
        using var r = cmd.ExecuteReader();
        var list = new List<(string, long, double)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetInt64(1), r.GetDouble(2)));
        return list;
    }

    public void RetryNow(string webhookId)
    {
        using var c = Open();
        Execute(c, "UPDATE outbox SET next_attempt = @t WHERE webhook_id = @w AND next_attempt > @t AND lease_until IS NULL", ("w", webhookId), ("t", Now()));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // registered as itself and as IServiceStore
        Feed.Dispose();
        _db.Dispose();
    }

    private int _disposed;

    // ---- plumbing ----

    /// <param name="unseal">False: <see cref="WebhookConfig.Secret"/> stays null (enough to match events to receivers).</param>
    private List<WebhookConfig> ReadWebhooks(NpgsqlConnection c, NpgsqlTransaction? tx, bool unseal)
    {
        using var cmd = Command(c, "SELECT id, url, secret, streams::text, kinds::text, created_at FROM webhooks ORDER BY created_at, id");
        cmd.Transaction = tx;
        using var r = cmd.ExecuteReader();
        var list = new List<WebhookConfig>();
        while (r.Read())
            list.Add(new WebhookConfig(r.GetString(0), r.GetString(1), !unseal || r.IsDBNull(2) ? null : Unseal(r.GetString(2), r.GetString(0)),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(3)),
                r.IsDBNull(4) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(4)),
                new DateTimeOffset(r.GetDateTime(5), TimeSpan.Zero)));
        return list;
    }

    private string Unseal(string stored, string id)
    {
        try
        {
            return _secrets.Open(stored, id);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"webhook {id}: its secret was sealed with another key; every node needs the same SecretKeyFile");
        }
    }

    internal static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    internal NpgsqlConnection Open() => _db.OpenConnection();

    internal NpgsqlCommand Command(NpgsqlConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.Add(Parameter(name, value));
        Count();
        return cmd;
    }

    private static void Add(NpgsqlBatchCommand cmd, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters) cmd.Parameters.Add(Parameter(name, value));
    }

    private static NpgsqlParameter Parameter(string name, object? value) => value switch
    {
        JsonbText j => new NpgsqlParameter(name, NpgsqlDbType.Jsonb) { Value = j.Text },
        null => new NpgsqlParameter(name, DBNull.Value),
        _ => new NpgsqlParameter(name, value),
    };

    internal int Execute(NpgsqlConnection c, string sql, params (string, object?)[] parameters) => Execute(c, sql, null, parameters);

    internal int Execute(NpgsqlConnection c, string sql, NpgsqlTransaction? tx, params (string, object?)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        cmd.Transaction = tx;
        return cmd.ExecuteNonQuery();
    }

    internal T Scalar<T>(NpgsqlConnection c, string sql, params (string, object?)[] parameters) => Scalar<T>(c, sql, null, parameters);

    internal T Scalar<T>(NpgsqlConnection c, string sql, NpgsqlTransaction? tx, params (string, object?)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        cmd.Transaction = tx;
        var value = cmd.ExecuteScalar();
        if (value is null or DBNull) return default!;
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)(type == typeof(byte[]) ? value : Convert.ChangeType(value, type, CultureInfo.InvariantCulture));
    }

    private sealed record JsonbText(string Text);
}

/// <summary>
/// The identity of an event line (team decision: kind, stream index, programme, channel, start), read from
/// its JSON: the same defect reported again, by any node, has the same identity.
/// </summary>
public static class EventIdentity
{
    public static string Of(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        string Field(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.Number or JsonValueKind.String ? v.ToString() : "";
        var start = root.GetProperty("start").GetDouble();
        var details = root.TryGetProperty("details", out var d) ? d : default;
        // the text form of the defect's key (kind, stream, programme, channel, start to 3 decimals)
        return string.Join('|', root.GetProperty("kind").GetString(), Field(root, "stream"), Field(root, "program"), Field(details, "channel"),
            start.ToString("0.000", CultureInfo.InvariantCulture));
    }

    /// <summary>The <c>node</c> field of an event line, if any.</summary>
    public static string? Node(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("node", out var n) ? n.GetString() : null;
    }
}
