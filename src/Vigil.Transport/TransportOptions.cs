namespace Vigil.Transport;

/// <summary>
/// Limits of the TR 101 290 checks, in seconds of transport time. Defaults are the standard's; the PID
/// timeout, which the standard leaves to the user, is 1 s.
/// </summary>
public sealed record TransportOptions
{
    /// <summary>1.3: PAT sections at least this often.</summary>
    public double PatInterval { get; init; } = 0.5;
    /// <summary>1.5: each programme's PMT at least this often.</summary>
    public double PmtInterval { get; init; } = 0.5;
    /// <summary>1.6: a video or audio PID listed in a PMT occurs at least this often (user-specified in the standard).</summary>
    public double PidTimeout { get; init; } = 1.0;
    /// <summary>2.3a: PCRs on a programme's PCR PID at least this often while the mux runs at a constant rate (a DVB transmission multiplex).</summary>
    public double PcrInterval { get; init; } = 0.040;
    /// <summary>
    /// 2.3a on a variable-rate transport (no null packets) whose PCRs usually come more than
    /// <see cref="PcrInterval"/> apart (an encoder's or packager's output for streaming, files): ISO/IEC 13818-1's
    /// own ceiling, 0.1 s. TR 101 290 takes its 40 ms from DVB's transmission rules (TS 101 154);
    /// FFmpeg's muxer, and many streaming encoders, space PCRs at the largest multiple of a frame under 100 ms
    /// when they do not stuff to a rate, so the DVB limit there would hold an alarm open for the whole stream.
    /// </summary>
    public double PcrIntervalVariableRate { get; init; } = 0.100;
    /// <summary>2.3b: consecutive PCR values differ by at most this (and never go back) without discontinuity_indicator.</summary>
    public double PcrMaxStep { get; init; } = 0.100;
    /// <summary>2.4: a PCR within this of the value implied by its byte position at the mux rate.</summary>
    public double PcrAccuracy { get; init; } = 500e-9;
    /// <summary>
    /// 2.4 on a live input (bytes fed with their arrival time): a PCR may run at most this far ahead of the
    /// lower envelope of its bytes' arrival (drift fitted out). Not the standard's 500 ns: arrival times carry
    /// the network's and the receiver's delays, which only ever make bytes late, so a PCR ahead of its bytes is
    /// a wrong PCR; 2 ms lies above what a prompt read's stamp varies by (well under a millisecond, loaded or
    /// not) and the drift fit's error over its window, and below a PCR value wrong by a few milliseconds, a
    /// re-stamping encoder or a remux that adds jitter.
    /// </summary>
    public double PcrArrivalAccuracy { get; init; } = 0.002;
    /// <summary>2.5: PTS on each PES PID at least this often.</summary>
    public double PtsInterval { get; init; } = 0.700;
    /// <summary>
    /// A defect ends once its indicator has passed for its interval, and for at least this long, so that an
    /// indicator that flaps (a PCR interval of 39, 41, 39, 41 ms) is one defect with its count, not one per packet.
    /// </summary>
    public double MinClearInterval { get; init; } = 1.0;
}
