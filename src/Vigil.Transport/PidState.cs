namespace Vigil.Transport;

/// <summary>What the analyser knows a PID to carry.</summary>
internal enum PidRole : byte { Unknown, Psi, Pes }

/// <summary>Per-PID state of the analyser; created the first time a PID is seen.</summary>
internal sealed class PidState(int pid)
{
    public readonly int Pid = pid;
    public PidRole Role;
    public bool IsPmt;
    public int Program;                  // the first programme that lists it; 0: none
    public StreamKind Kind;
    public bool IsProgramPcr;            // some programme's PMT names it as PCR PID
    public SectionAssembler? Sections;

    // continuity
    public int LastCc = -1;
    public bool Repeated;                // the last packet repeated the one before (allowed once)
    public bool DiscontinuityPending;    // discontinuity_indicator in an adaptation-only packet

    // clocks
    public long LastPcr = -1;            // 27 MHz, as sent
    public long UnwrappedPcr;            // the same, continued across the 33-bit wrap
    public double LastPcrTime;           // transport time of the last PCR
    public long LastPcrPosition;
    public double PcrCadence = double.NaN; // seconds: the usual PCR interval (moving average of the regular ones)
    // accuracy: the run of constant rate and the predicted PCR (see TransportAnalyzer.Accuracy)
    public int RateRun;
    public long RunPcr, RunPosition;
    public double Predicted;
    public bool DeviationFailed;
    public double LastDeviation;
    public long LastPts = -1;
    public PcrArrival? Arrival;          // a live input's programme PCR PID: accuracy against arrival times

    public Deadline? Presence, Pts, PcrRepetition;

    // statistics
    public long Packets, ContinuityErrors, Duplicates, LostPackets, TransportErrors, Scrambled, Pcrs, PtsCount,
        PesStarts, InvalidPesStarts, SectionCount, CrcErrors;

    public PidStatistics Snapshot() => new(Pid, Role == PidRole.Pes ? Kind.ToString().ToLowerInvariant() : IsPmt ? "pmt" : Role == PidRole.Psi ? "psi" : IsProgramPcr ? "pcr" : "unknown",
        Program, Packets, ContinuityErrors, Duplicates, LostPackets, TransportErrors, Scrambled, Pcrs, PtsCount, PesStarts,
        InvalidPesStarts, SectionCount, CrcErrors);
}

/// <summary>Counts of one PID over the input so far (as TSDuck's PID report shows them).</summary>
public sealed record PidStatistics(
    int Pid, string Usage, int Program, long Packets, long ContinuityErrors, long Duplicates, long LostPackets,
    long TransportErrors, long Scrambled, long Pcrs, long Pts, long PesPackets, long InvalidPesStarts, long Sections, long CrcErrors);
