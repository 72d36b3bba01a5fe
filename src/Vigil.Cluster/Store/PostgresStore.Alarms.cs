using Npgsql;
using NpgsqlTypes;
using Vigil.Service.Notify;
using Vigil.Service.Store;

namespace Vigil.Cluster.Store;

/// <summary>
/// Alarms for operators, as the embedded store keeps them: a defect's acknowledgement (who, when) keyed by
/// the defect's identity (the <c>identity</c> column every event has), so that it holds for both of the
/// defect's events and whichever node reported them; and the history of ended defects by stream, kind and
/// time range, newest first. The first acknowledgement stands, also when two nodes take one at once.
/// </summary>
public sealed partial class PostgresStore
{
    public StoredEvent? GetEvent(long seq)
    {
        using var c = Open();
        using var cmd = Command(c, """SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events WHERE seq = @seq""", ("seq", seq));
        return ReadEvents(cmd).FirstOrDefault();
    }

    public Acknowledgement Acknowledge(StoredEvent defect, string by, string? keyId)
    {
        using (var c = Open())
            Execute(c, """
                INSERT INTO acknowledgements (stream_id, identity, event_seq, who, key_id)
                SELECT stream_id, identity, seq, @by, @key FROM events WHERE seq = @seq
                ON CONFLICT (stream_id, identity) DO NOTHING
                """, ("seq", defect.Seq), ("by", by), ("key", keyId));
        return Acknowledgements([defect]).Values.Single();
    }

    public IReadOnlyDictionary<long, Acknowledgement> Acknowledgements(IReadOnlyCollection<StoredEvent> events)
    {
        var found = new Dictionary<long, Acknowledgement>();
        if (events.Count == 0) return found;
        using var c = Open();
        using var cmd = Command(c, """
            SELECT e.seq, a.who, a.key_id, a.at, a.event_seq FROM events e
            JOIN acknowledgements a ON a.stream_id = e.stream_id AND a.identity = e.identity
            WHERE e.seq = ANY(@seqs)
            """);
        cmd.Parameters.Add(new NpgsqlParameter("seqs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = events.Select(e => e.Seq).Distinct().ToArray() });
        using var r = cmd.ExecuteReader();
        while (r.Read())
            found[r.GetInt64(0)] = new Acknowledgement(r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
                new DateTimeOffset(r.GetDateTime(3), TimeSpan.Zero), r.GetInt64(4));
        return found;
    }

    public IReadOnlyList<StoredEvent> QueryDefects(string? streamId, IReadOnlyList<string>? kinds, DateTimeOffset? from, DateTimeOffset? to,
        long? beforeSeq, int limit)
    {
        var parameters = new List<(string, object?)>
        {
            ("stream", streamId), ("before", beforeSeq ?? long.MaxValue), ("limit", limit),
            // the events' time fields are RFC 3339 UTC with milliseconds: compared byte by byte (COLLATE "C") they sort in time order
            ("from", from is { } f ? EventJson.Wall(f.ToUnixTimeMilliseconds() / 1000.0) : null),
            ("to", to is { } t ? EventJson.Wall(t.ToUnixTimeMilliseconds() / 1000.0) : null),
        };
        using var c = Open();
        using var cmd = Command(c, $"""
            SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events
            WHERE type = 'defect' AND seq < @before AND (@stream::text IS NULL OR stream_id = @stream) {KindClause(kinds, parameters)}
                AND (@from::text IS NULL OR (json::jsonb ->> 'end_time') COLLATE "C" >= @from::text)
                AND (@to::text IS NULL OR (json::jsonb ->> 'time') COLLATE "C" <= @to::text)
            ORDER BY seq DESC LIMIT @limit
            """, parameters.ToArray());
        return ReadEvents(cmd);
    }
}
