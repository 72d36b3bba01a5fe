namespace Vigil.Detectors;

/// <summary>
/// A defect as the event contract (EVENTS.md) describes it. <see cref="End"/> is null while the
/// defect is still open (a <c>defect_start</c> event).
/// </summary>
public sealed record Defect(
    string Kind,
    double Start,
    double? End,
    double Confidence,
    IReadOnlyDictionary<string, double>? Details = null,
    int? Stream = null);

/// <summary>Where detectors report: the moment a defect is confirmed, and again when it ends.</summary>
public interface IDefectSink
{
    /// <summary>The defect has lasted its minimum duration; <see cref="Defect.End"/> is null.</summary>
    void DefectStarted(Defect defect);

    /// <summary>The defect is over (or the input ended with it open).</summary>
    void DefectEnded(Defect defect);
}
