namespace Vigil.Events;

/// <summary>
/// A defect as the event contract (EVENTS.md) describes it. <see cref="End"/> is null while the
/// defect is still open (a <c>defect_start</c> event).
/// </summary>
/// <param name="Kind">The defect kind, e.g. <c>video.black</c>.</param>
/// <param name="Start">Media time the defect began (seconds).</param>
/// <param name="End">Media time it ended (exclusive); null while open.</param>
/// <param name="Confidence">0..1.</param>
/// <param name="Details">
/// Kind-specific numbers. <c>channel</c> is part of the defect's identity (<see cref="Key"/>): a detector
/// keeps it the same in both events of one defect.
/// </param>
/// <param name="Stream">The input stream index the defect is on, when it is on one.</param>
/// <param name="Program">The programme (service id) of a multiplex the defect is on; null for single-programme inputs.</param>
public sealed record Defect(
    string Kind,
    double Start,
    double? End,
    double Confidence,
    IReadOnlyDictionary<string, double>? Details = null,
    int? Stream = null,
    int? Program = null)
{
    /// <summary>
    /// Kind-specific text, written into <c>details</c> beside the numbers (numbers stay JSON numbers),
    /// e.g. <c>closed_by</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? TextDetails { get; init; }

    /// <summary>The audio channel the defect is on (<c>details.channel</c>); null when it is on the whole stream.</summary>
    public int? Channel => Details is not null && Details.TryGetValue(DetailNames.Channel, out var c) ? (int)c : null;

    /// <summary>Who closed it when not the media (<c>details.closed_by</c>, <see cref="Events.ClosedBy"/>); null otherwise.</summary>
    public string? ClosedBy => TextDetails?.GetValueOrDefault(DetailNames.ClosedBy);

    /// <summary>What tells this defect from every other one of the same input: two channels failing together are two defects.</summary>
    public DefectKey Key => new(Kind, Stream, Program, Channel, Start);

    /// <summary>This defect with <c>details.closed_by</c> set: closed by the monitor (<paramref name="closedBy"/>) rather than by the media.</summary>
    public Defect ClosedByMonitor(string closedBy)
    {
        var text = TextDetails is null ? new Dictionary<string, string>() : new Dictionary<string, string>(TextDetails);
        text[DetailNames.ClosedBy] = closedBy;
        return this with { TextDetails = text };
    }
}

/// <summary>
/// The identity of a defect: (kind, stream index, programme, channel, start). Open defects are keyed by
/// it everywhere (detectors, the service's sink and store, snapshots), never by (kind, start) alone.
/// </summary>
public readonly record struct DefectKey(string Kind, int? Stream, int? Program, int? Channel, double Start)
{
    /// <summary>
    /// A stable text form (start to the contract's 3 decimals), so a key rebuilt from an event line
    /// equals the key of the defect it was written from.
    /// </summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Kind}|{Stream}|{Program}|{Channel}|{Start:0.000}");
}

/// <summary>Where detectors report: the moment a defect is confirmed, and again when it ends.</summary>
public interface IDefectSink
{
    /// <summary>The defect has lasted its minimum duration; <see cref="Defect.End"/> is null.</summary>
    void DefectStarted(Defect defect);

    /// <summary>The defect is over (or the input ended with it open).</summary>
    void DefectEnded(Defect defect);
}

/// <summary>Values of <c>details.closed_by</c> (EVENTS.md): a defect closed by the monitor itself, not by the media.</summary>
public static class ClosedBy
{
    /// <summary>The input ended (or its analysis was stopped) while the defect was open.</summary>
    public const string EndOfInput = "end_of_input";

    /// <summary>The input failed while the defect was open.</summary>
    public const string Error = "error";

    /// <summary>The service stopped while the defect was open.</summary>
    public const string Restart = "restart";

    /// <summary>Its node died and another took over.</summary>
    public const string Failover = "failover";
}

/// <summary>Names of <c>details</c> entries the contract itself gives a meaning to.</summary>
public static class DetailNames
{
    /// <summary>The audio channel of a per-channel defect (part of the defect's identity).</summary>
    public const string Channel = "channel";

    /// <summary>Who closed a defect that the media did not close (<see cref="Events.ClosedBy"/>).</summary>
    public const string ClosedBy = "closed_by";
}
