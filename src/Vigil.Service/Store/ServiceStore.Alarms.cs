using System.Globalization;
using System.Text.Json;
using Vigil.Service.Notify;

namespace Vigil.Service.Store;

/// <summary>
/// Alarms for operators: a defect's acknowledgement (who, when), keyed by the defect's identity
/// (<c>DefectKey</c>) so that it holds for both of the defect's events, and the history of ended
/// defects by stream, kind and time range, newest first.
/// </summary>
public sealed partial class ServiceStore
{
    private void CreateAlarmTables() => Execute(_writer, """
        CREATE TABLE IF NOT EXISTS acknowledgements (
            stream_id TEXT NOT NULL, defect_key TEXT NOT NULL, event_seq INTEGER NOT NULL, who TEXT NOT NULL,
            key_id TEXT, at TEXT NOT NULL, PRIMARY KEY (stream_id, defect_key));
        """);

    public StoredEvent? GetEvent(long seq)
    {
        using var c = OpenReader();
        using var cmd = Command(c, """SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events WHERE seq = $seq""", ("$seq", seq));
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadEvent(r) : null;
    }

    public Acknowledgement Acknowledge(StoredEvent defect, string by, string? keyId)
    {
        var key = DefectKeyOf(defect);
        lock (_gate)
        {
            Execute(_writer, """
                INSERT OR IGNORE INTO acknowledgements (stream_id, defect_key, event_seq, who, key_id, at)
                VALUES ($stream, $key, $seq, $by, $keyId, $at)
                """, ("$stream", defect.StreamId), ("$key", key), ("$seq", defect.Seq), ("$by", by), ("$keyId", keyId),
                ("$at", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        }
        return Acknowledgements([defect]).Values.Single();
    }

    public IReadOnlyDictionary<long, Acknowledgement> Acknowledgements(IReadOnlyCollection<StoredEvent> events)
    {
        var found = new Dictionary<long, Acknowledgement>();
        if (events.Count == 0) return found;
        var wanted = events.Select(e => (Event: e, Key: $"{e.StreamId}\n{DefectKeyOf(e)}")).ToList();
        using var c = OpenReader();
        using var cmd = Command(c, """
            SELECT stream_id, defect_key, event_seq, who, key_id, at FROM acknowledgements
            WHERE stream_id || char(10) || defect_key IN (SELECT value FROM json_each($keys))
            """, ("$keys", JsonSerializer.Serialize(wanted.Select(w => w.Key).Distinct())));
        using var r = cmd.ExecuteReader();
        var byKey = new Dictionary<string, Acknowledgement>(StringComparer.Ordinal);
        while (r.Read())
            byKey[$"{r.GetString(0)}\n{r.GetString(1)}"] = new Acknowledgement(r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
                DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture), r.GetInt64(2));
        foreach (var (e, key) in wanted)
            if (byKey.TryGetValue(key, out var ack)) found[e.Seq] = ack;
        return found;
    }

    public IReadOnlyList<StoredEvent> QueryDefects(string? streamId, IReadOnlyList<string>? kinds, DateTimeOffset? from, DateTimeOffset? to,
        long? beforeSeq, int limit)
    {
        using var c = OpenReader();
        var parameters = new List<(string, object?)>
        {
            ("$stream", streamId), ("$before", beforeSeq ?? long.MaxValue), ("$limit", limit),
            // the events' time fields are RFC 3339 UTC with milliseconds: as text they sort in time order
            ("$from", from is { } f ? EventJson.Wall(f.ToUnixTimeMilliseconds() / 1000.0) : null),
            ("$to", to is { } t ? EventJson.Wall(t.ToUnixTimeMilliseconds() / 1000.0) : null),
        };
        using var cmd = Command(c, $"""
            SELECT seq, stream_id, type, kind, start, "end", snapshot, json FROM events
            WHERE type = 'defect' AND seq < $before AND ($stream IS NULL OR stream_id = $stream) {KindClause(kinds, parameters)}
                AND ($from IS NULL OR json_extract(json, '$.end_time') >= $from)
                AND ($to IS NULL OR json_extract(json, '$.time') <= $to)
            ORDER BY seq DESC LIMIT $limit
            """, parameters.ToArray());
        using var r = cmd.ExecuteReader();
        var list = new List<StoredEvent>();
        while (r.Read()) list.Add(ReadEvent(r));
        return list;
    }

    /// <summary>The identity a stored event's defect has (<c>DefectKey</c> text), from its JSON line.</summary>
    private static string DefectKeyOf(StoredEvent e) => EventJson.ParseDefect(e.Json).Key.ToString();
}
