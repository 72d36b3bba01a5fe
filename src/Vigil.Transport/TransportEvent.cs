namespace Vigil.Transport;

/// <summary>What a <see cref="TransportEvent"/> says.</summary>
public enum TransportEventKind
{
    /// <summary>The indicator failed for the first time after passing: a <c>ts.*</c> defect starts at <see cref="TransportEvent.Time"/>.</summary>
    Raised,
    /// <summary>The indicator has passed for its interval since it last failed at <see cref="TransportEvent.Time"/>: the defect ends there.</summary>
    Cleared,
    /// <summary>A continuity error that looks like loss: <see cref="TransportEvent.Count"/> packets missing on <see cref="TransportEvent.Pid"/>.</summary>
    PacketsLost,
    /// <summary>The input ended with the indicator still failing (raised, never cleared), after <see cref="TransportEvent.Count"/> failures.</summary>
    StillFailing,
}

/// <summary>
/// One finding of the <see cref="TransportAnalyzer"/>. <see cref="Time"/> is transport time (seconds of the
/// multiplex clock since the first PCR, see <see cref="TransportAnalyzer.Time"/>); <see cref="TransportAnalyzer.ClockAt"/>
/// turns it into a programme's own clock. <see cref="Program"/> is the programme number (service id) the PID belongs
/// to, 0 for the multiplex as a whole (sync, PAT, CAT, PIDs of no programme). <see cref="Pid"/> is -1 where no PID
/// applies (sync). <see cref="Count"/>: failures within the defect so far (raised, cleared) or lost packets.
/// <see cref="Pts"/>, for lost packets: the PTS (90 kHz) of the PES the loss fell in, the picture or audio
/// frame it damaged; -1 before the PID's first PTS.
/// </summary>
public readonly record struct TransportEvent(TransportEventKind Kind, Indicator Indicator, int Pid, int Program, double Time, long Count, long Pts = -1);

/// <summary>Receives the analyser's events, in stream order, on the thread that feeds it.</summary>
public interface ITransportEventSink
{
    void OnTransportEvent(in TransportEvent transportEvent);
}
