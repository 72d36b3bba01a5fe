namespace Vigil.Service.Store;

/// <summary>A monitored stream as the API defines it and the database keeps it.</summary>
/// <param name="Detectors">Kinds or families to run; null runs every detector.</param>
/// <param name="Settings">Thresholds as <c>kind.option → value</c>, bound like <c>vigil analyze --set</c>.</param>
/// <param name="Masks">Picture regions (<c>x,y,w,h</c> fractions) every video detector with a mask ignores.</param>
/// <param name="Epoch">Unix time (seconds) that stream time 0 stands for: events' <c>start</c>/<c>end</c> count from it.</param>
public sealed record StreamConfig(
    string Id,
    string Name,
    string Url,
    IReadOnlyList<string>? Detectors,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<string> Masks,
    bool Paused,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    double Epoch)
{
    /// <summary>
    /// Of a multiplex: decode and analyse only this programme (service id); its <c>ts.*</c> are those of the
    /// multiplex as a whole (sync, PAT, CAT) and of its own PMT and PIDs. Null: the input as one.
    /// </summary>
    public int? Program { get; init; }

    /// <summary>
    /// Of a multiplex: monitor each of these programmes (service ids) as a stream of its own, <c>{id}.{program}</c>
    /// (<see cref="ProgramStreamId"/>), all from one receive and one demux; empty: every TV and radio programme;
    /// null: the input is one stream.
    /// </summary>
    public IReadOnlyList<int>? Programs { get; init; }

    /// <summary>A programme stream: the multiplex stream it belongs to (not stored: it follows from that stream's <see cref="Programs"/>).</summary>
    public string? Parent { get; init; }

    /// <summary>The id of programme <paramref name="program"/> of multiplex stream <paramref name="parent"/>: ids have no '.', so it names no stored stream.</summary>
    public static string ProgramStreamId(string parent, int program) => $"{parent}.{program}";

    /// <summary>
    /// The programme stream <paramref name="program"/> of this multiplex stream: the same input, detectors and
    /// thresholds, analysing that programme.
    /// </summary>
    public StreamConfig ProgramStream(int program, string? serviceName) => this with
    {
        Id = ProgramStreamId(Id, program),
        Name = $"{Name} / {serviceName ?? program.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        Program = program,
        Programs = null,
        Parent = Id,
    };
}

/// <summary>An event as stored: its sequence number (the <c>id</c> in its JSON) and the JSON line itself.</summary>
public sealed record StoredEvent(long Seq, string StreamId, string Type, string Kind, double Start, double? End, string? SnapshotId, string Json);

/// <summary>A webhook receiver; null filters take every stream or kind.</summary>
public sealed record WebhookConfig(
    string Id,
    string Url,
    string? Secret,
    IReadOnlyList<string>? Streams,
    IReadOnlyList<string>? Kinds,
    DateTimeOffset CreatedAt)
{
    /// <summary>A programme stream (<c>{id}.{program}</c>) matches its multiplex stream's id too.</summary>
    public bool Matches(string streamId, string kind) =>
        (Streams is null || Streams.Contains(streamId) || streamId.LastIndexOf('.') is > 0 and var dot && Streams.Contains(streamId[..dot]))
        && KindFilter.Matches(Kinds, kind);
}

/// <summary>One pending webhook delivery: the oldest undelivered event of one stream for one receiver.</summary>
public sealed record OutboxItem(long Id, string WebhookId, string Url, string? Secret, string StreamId, long EventSeq, int Attempts, string Json);

/// <summary>Kind filters accept exact kinds and families (<c>video</c> matches <c>video.black</c>).</summary>
public static class KindFilter
{
    /// <summary>
    /// Every kind an event can have (EVENTS.md): the detectors' kinds, the service's own <c>stream.stall</c>
    /// and the ETSI TR 101 290 indicators.
    /// </summary>
    public static IReadOnlyList<string> Known { get; } = Vigil.Detectors.DetectorCatalog.Kinds
        .Append("stream.stall")
        .Concat(new[]
        {
            "sync_loss", "sync_byte_error", "pat_error", "continuity_count_error", "pmt_error", "pid_error", "transport_error", "crc_error",
            "pcr_repetition_error", "pcr_discontinuity_indicator_error", "pcr_accuracy_error", "pts_error", "cat_error",
        }.Select(i => "ts." + i))
        .Distinct(StringComparer.Ordinal)
        .ToArray();

    /// <summary>Null when every entry is a known kind or family, else a message naming the first that is not (for a 400).</summary>
    public static string? Problem(IReadOnlyList<string>? kinds)
    {
        foreach (var k in kinds ?? [])
            if (!Known.Any(known => known.Equals(k, StringComparison.OrdinalIgnoreCase) || known.StartsWith(k + ".", StringComparison.OrdinalIgnoreCase)))
                return $"unknown kind '{k}' (kinds: {string.Join(", ", Known)}; or a family such as video, audio, av, stream, ts)";
        return null;
    }

    public static bool Matches(IReadOnlyList<string>? kinds, string kind)
    {
        if (kinds is null || kinds.Count == 0) return true;
        foreach (var k in kinds)
            if (kind.Equals(k, StringComparison.OrdinalIgnoreCase) || kind.StartsWith(k + ".", StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    /// <summary>A comma-separated query value as a list; null when empty.</summary>
    public static IReadOnlyList<string>? Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
