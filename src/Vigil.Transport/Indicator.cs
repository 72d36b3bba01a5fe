namespace Vigil.Transport;

/// <summary>The ETSI TR 101 290 priority 1 and 2 indicators Vigil checks (numbers as in the standard).</summary>
public enum Indicator
{
    /// <summary>1.1: sync lost (two or more consecutive corrupted sync bytes) until five correct ones in a row.</summary>
    SyncLoss,
    /// <summary>1.2: a packet's sync byte is not 0x47 while in sync.</summary>
    SyncByteError,
    /// <summary>1.3: no PAT section for more than 0.5 s, another table on PID 0, or PID 0 scrambled.</summary>
    PatError,
    /// <summary>1.4: a packet lost, out of order or repeated more than once on a PID.</summary>
    ContinuityCountError,
    /// <summary>1.5: no PMT section of a programme listed in the PAT for more than 0.5 s, or its PID scrambled.</summary>
    PmtError,
    /// <summary>1.6: a PID that a PMT lists (video or audio) does not occur for the PID timeout.</summary>
    PidError,
    /// <summary>2.1: transport_error_indicator set.</summary>
    TransportError,
    /// <summary>2.2: CRC error in a CAT, PAT, PMT, NIT, SDT, BAT, EIT or TOT section.</summary>
    CrcError,
    /// <summary>2.3a: more than 40 ms between two PCRs of a programme's PCR PID.</summary>
    PcrRepetitionError,
    /// <summary>2.3b: two consecutive PCRs differ by less than 0 or more than 100 ms without discontinuity_indicator.</summary>
    PcrDiscontinuityIndicatorError,
    /// <summary>2.4: a PCR more than 500 ns away from the value its byte position at the mux rate implies.</summary>
    PcrAccuracyError,
    /// <summary>2.5: more than 700 ms between two PTS on a PID.</summary>
    PtsError,
    /// <summary>2.6: scrambled packets without a CAT, or another table on PID 1.</summary>
    CatError,
}

/// <summary>Names, numbers and intervals of the <see cref="Indicator"/>s.</summary>
public static class Indicators
{
    /// <summary>Number of indicators (for per-indicator arrays).</summary>
    public const int Count = 13;

    /// <summary>Every indicator, in the standard's order.</summary>
    public static IReadOnlyList<Indicator> All { get; } = Enum.GetValues<Indicator>();

    private static readonly string[] Names =
    [
        "sync_loss", "sync_byte_error", "pat_error", "continuity_count_error", "pmt_error", "pid_error",
        "transport_error", "crc_error", "pcr_repetition_error", "pcr_discontinuity_indicator_error",
        "pcr_accuracy_error", "pts_error", "cat_error",
    ];

    private static readonly string[] Numbers = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3a", "2.3b", "2.4", "2.5", "2.6"];

    /// <summary>The contract's name, e.g. <c>continuity_count_error</c> (the event kind is <c>ts.</c> + this).</summary>
    public static string Name(this Indicator indicator) => Names[(int)indicator];

    /// <summary>The defect kind, e.g. <c>ts.continuity_count_error</c>.</summary>
    public static string Kind(this Indicator indicator) => "ts." + Names[(int)indicator];

    /// <summary>The number in ETSI TR 101 290, e.g. <c>1.4</c>.</summary>
    public static string Number(this Indicator indicator) => Numbers[(int)indicator];

    /// <summary>1 or 2.</summary>
    public static int Priority(this Indicator indicator) => indicator <= Indicator.PidError ? 1 : 2;

    /// <summary>Parses a contract name (<c>pat_error</c>) or kind (<c>ts.pat_error</c>); false when unknown.</summary>
    public static bool TryParse(string name, out Indicator indicator)
    {
        if (name.StartsWith("ts.", StringComparison.Ordinal)) name = name[3..];
        var index = Array.IndexOf(Names, name);
        indicator = index < 0 ? default : (Indicator)index;
        return index >= 0;
    }
}
