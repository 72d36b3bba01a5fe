using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vigil.Events;

namespace Vigil.Service.Notify;

/// <summary>
/// The service's event lines: the contract's JSON (ContractJson, EVENTS.md) with fields added, never
/// changed: <c>id</c> (sequence number, also the SSE id), <c>stream_id</c>, <c>time</c>/<c>end_time</c>
/// (UTC wall clock of <c>start</c>/<c>end</c>), <c>snapshot</c> (link to the JPEG) when there is one, and in a
/// fleet <c>node</c> (the node whose pipeline found it).
/// </summary>
public static class EventJson
{
    public static string Compose(Defect defect, long id, string streamId, double epoch, string? snapshotUrl, string? node = null)
    {
        var contract = ContractJson.Defect(defect);
        var buffer = new ArrayBufferWriter<byte>(192);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("stream_id", streamId);
            w.WriteString("time", Wall(epoch + defect.Start));
            if (defect.End is { } end) w.WriteString("end_time", Wall(epoch + end));
            if (snapshotUrl is not null) w.WriteString("snapshot", snapshotUrl);
            if (!string.IsNullOrEmpty(node)) w.WriteString("node", node);
            w.WriteEndObject();
        }
        var extra = Encoding.UTF8.GetString(buffer.WrittenSpan);
        // both are single JSON objects: splice the added fields in before the contract's closing brace
        return string.Concat(contract.AsSpan(0, contract.Length - 1), ",", extra.AsSpan(1));
    }

    /// <summary>Rebuilds the contract defect from a stored <c>defect_start</c> line (to close it after a crash).</summary>
    public static Defect ParseDefect(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Dictionary<string, double>? details = null;
        Dictionary<string, string>? text = null;
        if (root.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in d.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Number) (details ??= [])[p.Name] = p.Value.GetDouble();
                else if (p.Value.ValueKind == JsonValueKind.String) (text ??= [])[p.Name] = p.Value.GetString()!;
            }
        }
        return new Defect(
            root.GetProperty("kind").GetString()!,
            root.GetProperty("start").GetDouble(),
            root.TryGetProperty("end", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null,
            root.TryGetProperty("confidence", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetDouble() : 1,
            details,
            root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null,
            root.TryGetProperty("program", out var g) && g.ValueKind == JsonValueKind.Number ? g.GetInt32() : null)
        {
            TextDetails = text,
        };
    }

    public static string Wall(double unixSeconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unixSeconds * 1000)).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
