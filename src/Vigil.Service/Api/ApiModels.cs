using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vigil.Service.Live;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// A stream to add (POST) or the fields to change (PATCH; absent fields keep their value).
/// <c>detectors</c>: kinds or families to run (empty or absent: all). <c>thresholds</c>:
/// <c>{"video.black.min_duration": 0.5}</c>, as <c>vigil analyze --set</c>. <c>masks</c>: picture regions
/// <c>x,y,w,h</c> (fractions) that video detectors ignore. Of a multiplex: <c>program</c>, a service id, analyses
/// that programme alone (0 in a PATCH: the input as one again); <c>programs</c>, <c>"all"</c> or a list of service
/// ids, monitors each programme as a stream of its own, <c>{id}.{program}</c>, from one receive (<c>[]</c> in a
/// PATCH: the input as one again).
/// </summary>
public sealed record StreamRequest(
    string? Url = null,
    string? Name = null,
    List<string>? Detectors = null,
    Dictionary<string, JsonElement>? Thresholds = null,
    List<string>? Masks = null,
    bool? Paused = null,
    string? Id = null,
    int? Program = null,
    JsonElement? Programs = null);

/// <summary>
/// A monitored stream with its live status (the pipeline's own <see cref="StreamStatus"/>, serialised as it is).
/// For keys that are not admin keys the URL is redacted (<see cref="UrlRedaction"/>). <c>program</c>: the programme
/// this stream analyses; <c>programs</c>: <c>"all"</c> or the service ids monitored as programme streams;
/// <c>parent</c>: a programme stream's multiplex stream (its definition: a programme stream is changed through it).
/// </summary>
public sealed record StreamResource(
    string Id,
    string Name,
    string Url,
    IReadOnlyList<string>? Detectors,
    IReadOnlyDictionary<string, string> Thresholds,
    IReadOnlyList<string> Masks,
    bool Paused,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    StreamStatus Status)
{
    public int? Program { get; init; }

    /// <summary><c>"all"</c> or the list of service ids; null for a stream that is not split into programme streams.</summary>
    public object? Programs { get; init; }

    public string? Parent { get; init; }

    /// <param name="redact">True unless the caller holds an admin key: the URL and error text lose their secrets.</param>
    /// <param name="placement">In a fleet, where the stream's detector groups run (<c>status.groups</c>, <c>status.unassigned</c>); null for one process.</param>
    public static StreamResource From(StreamConfig c, StreamStatus? s, bool redact, StreamPlacement? placement = null)
    {
        var status = (s ?? StreamStatus.Idle(c.Paused)) with
        {
            Groups = placement?.Groups.Select(g => new GroupStatus(g.Group, g.Detectors, g.Node, g.Status?.State)).ToList(),
            Unassigned = placement?.Unassigned,
        };
        return new(c.Id, c.Name, redact ? UrlRedaction.Redact(c.Url) : c.Url, c.Detectors, c.Settings, c.Masks, c.Paused, c.CreatedAt, c.UpdatedAt,
            redact && status.LastError is { } error ? status with { LastError = UrlRedaction.Scrub(error) } : status)
        {
            Program = c.Program,
            Programs = c.Programs is null ? null : c.Programs.Count == 0 ? "all" : c.Programs,
            Parent = c.Parent,
        };
    }
}

/// <summary>A webhook receiver to add: events of the given streams and kinds (absent: all) are POSTed to <c>url</c>.</summary>
public sealed record WebhookRequest(string? Url = null, string? Secret = null, List<string>? Streams = null, List<string>? Kinds = null);

/// <summary>
/// A webhook receiver. Its secret is never shown, only whether it has one (<c>signed</c>); its URL only to
/// admin keys (receivers such as chat webhooks carry their credential in the path), others see scheme and host.
/// </summary>
public sealed record WebhookResource(string Id, string Url, bool Signed, IReadOnlyList<string>? Streams, IReadOnlyList<string>? Kinds, DateTimeOffset CreatedAt)
{
    public static WebhookResource From(WebhookConfig w, bool redact) =>
        new(w.Id, redact ? HostOnly(w.Url) : w.Url, !string.IsNullOrEmpty(w.Secret), w.Streams, w.Kinds, w.CreatedAt);

    private static string HostOnly(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/{UrlRedaction.Mask}" : UrlRedaction.Mask;
}

/// <summary>JSON conventions of the API: snake_case names, and unknown fields rejected so typos do not pass silently.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions());

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return o;
    }

    /// <summary>A threshold value given as a JSON string, number or boolean, in invariant text.</summary>
    public static string? ThresholdText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
