namespace Vigil.Transport;

/// <summary>
/// Something that must recur within <see cref="Limit"/> (a PAT section, a programme's PMT, PCRs, PTS, a
/// listed PID). <see cref="TransportAnalyzer"/> notes each occurrence; the tracker checks the gap.
/// </summary>
internal sealed class Deadline(Indicator indicator, int pid, int program, double limit)
{
    public readonly Indicator Indicator = indicator;
    public readonly int Pid = pid;
    public readonly int Program = program;
    /// <summary>The limit plus 100 ns, so that a gap of exactly the limit (PCRs exactly 40 ms apart) passes despite rounding.</summary>
    public double Limit { get; private set; } = limit + Slack;
    private const double Slack = 1e-7;

    /// <summary>Another limit from now on (the PCR interval follows whether the mux runs at a constant rate).</summary>
    public void Relimit(double limit) => Limit = limit + Slack;
    public double Last = double.NaN;   // transport time of the last occurrence; NaN: not armed
    public bool Failing;
}

/// <summary>
/// Raise and clear of each indicator per PID (EVENTS.md): a defect starts when the indicator first fails
/// and ends when it has passed for its interval (at least <see cref="TransportOptions.MinClearInterval"/>),
/// at the time it last failed. A failure is a point (a continuity error, a CRC error) or a period (a PAT
/// gap longer than 0.5 s: failing from 0.5 s after the last PAT until the next one arrives). Counts per
/// indicator, in total and per programme, feed the summary.
/// </summary>
internal sealed class IndicatorTracker(ITransportEventSink sink, TransportOptions options)
{
    private sealed class State(Indicator indicator, int pid, int program)
    {
        public readonly Indicator Indicator = indicator;
        public readonly int Pid = pid;
        public readonly int Program = program;
        public bool Open;
        public int Failing;          // periods in progress (several deadlines may share a PID)
        public double LastFailure;   // end of the latest failure
        public long Count;           // failures in the open defect
    }

    private readonly Dictionary<(Indicator, int, int), State> _states = [];
    private readonly List<State> _open = [];
    private readonly List<Deadline> _deadlines = [];
    private readonly double[] _clearAfter = ClearIntervals(options);

    /// <summary>Failures per indicator over the whole input.</summary>
    public readonly long[] Totals = new long[Indicators.Count];

    /// <summary>
    /// Failures of <paramref name="indicator"/> may be reported up to <paramref name="late"/> after their time
    /// (decided on what followed): its defects wait that much longer before they clear, so that a late failure
    /// still extends the defect it belongs to.
    /// </summary>
    public void DelayClear(Indicator indicator, double late) =>
        _clearAfter[(int)indicator] = ClearIntervals(options)[(int)indicator] + late;

    /// <summary>Called with (programme, indicator) on each failure of a programme's PID.</summary>
    public Action<int, Indicator>? OnProgramFailure;

    /// <summary>
    /// Failures per indicator by the programme they were on (0: the multiplex as a whole), each counted once:
    /// written on the analysing thread, readable from any other (the service's metrics).
    /// </summary>
    public readonly System.Collections.Concurrent.ConcurrentDictionary<int, long[]> ByProgram = new();

    /// <summary>A failure at one instant.</summary>
    public void Fail(Indicator indicator, int pid, int program, double time) => FailPeriod(indicator, pid, program, time, time);

    /// <summary>One failure that lasted from <paramref name="from"/> to <paramref name="to"/>, already over.</summary>
    public void FailPeriod(Indicator indicator, int pid, int program, double from, double to)
    {
        var state = Raise(indicator, pid, program, from);
        if (to > state.LastFailure) state.LastFailure = to;
    }

    /// <summary>A failure that lasts from <paramref name="time"/> until <see cref="EndFailing"/>.</summary>
    public void BeginFailing(Indicator indicator, int pid, int program, double time) => Raise(indicator, pid, program, time).Failing++;

    public void EndFailing(Indicator indicator, int pid, int program, double time)
    {
        if (!_states.TryGetValue((indicator, pid, program), out var state) || state.Failing == 0) return;
        state.Failing--;
        if (time > state.LastFailure) state.LastFailure = time;
    }

    public void Watch(Deadline deadline, double now)
    {
        deadline.Last = now;
        if (!_deadlines.Contains(deadline)) _deadlines.Add(deadline);
    }

    public void Unwatch(Deadline deadline, double now)
    {
        if (deadline.Failing) EndFailing(deadline.Indicator, deadline.Pid, deadline.Program, now);
        deadline.Failing = false;
        deadline.Last = double.NaN;
        _deadlines.Remove(deadline);
    }

    /// <summary>The awaited thing occurred at <paramref name="now"/>.</summary>
    public void Occurred(Deadline deadline, double now)
    {
        if (double.IsNaN(deadline.Last)) return; // not watched
        if (deadline.Failing)
        {
            deadline.Failing = false;
            EndFailing(deadline.Indicator, deadline.Pid, deadline.Program, now);
        }
        else if (now - deadline.Last > deadline.Limit)
        {
            // a gap that ended before a scan saw it
            FailPeriod(deadline.Indicator, deadline.Pid, deadline.Program, deadline.Last + deadline.Limit, now);
        }
        deadline.Last = now;
    }

    /// <summary>Raises overdue deadlines and clears indicators that have passed for their interval.</summary>
    public void Scan(double now)
    {
        foreach (var d in _deadlines)
        {
            if (d.Failing || now - d.Last <= d.Limit) continue;
            d.Failing = true;
            BeginFailing(d.Indicator, d.Pid, d.Program, d.Last + d.Limit);
        }
        for (var i = _open.Count - 1; i >= 0; i--)
        {
            var s = _open[i];
            if (s.Failing == 0 && now - s.LastFailure >= _clearAfter[(int)s.Indicator]) Clear(s, i);
        }
    }

    /// <summary>End of input: indicators passing again are cleared at their last failure; those still failing stay open.</summary>
    public void Finish(double now)
    {
        for (var i = _open.Count - 1; i >= 0; i--)
        {
            var s = _open[i];
            if (s.Failing == 0) Clear(s, i);
            else sink.OnTransportEvent(new TransportEvent(TransportEventKind.StillFailing, s.Indicator, s.Pid, s.Program, now, s.Count));
        }
    }

    private State Raise(Indicator indicator, int pid, int program, double time)
    {
        if (!_states.TryGetValue((indicator, pid, program), out var state))
            _states[(indicator, pid, program)] = state = new State(indicator, pid, program);
        Totals[(int)indicator]++;
        Interlocked.Increment(ref ByProgram.GetOrAdd(program, _ => new long[Indicators.Count])[(int)indicator]);
        if (program != 0) OnProgramFailure?.Invoke(program, indicator);
        state.Count++;
        if (!state.Open)
        {
            state.Open = true;
            state.Count = 1;
            state.LastFailure = time;
            _open.Add(state);
            sink.OnTransportEvent(new TransportEvent(TransportEventKind.Raised, indicator, pid, program, time, 1));
        }
        return state;
    }

    private void Clear(State s, int index)
    {
        s.Open = false;
        _open.RemoveAt(index);
        sink.OnTransportEvent(new TransportEvent(TransportEventKind.Cleared, s.Indicator, s.Pid, s.Program, s.LastFailure, s.Count));
    }

    private static double[] ClearIntervals(TransportOptions o)
    {
        var clear = new double[Indicators.Count];
        Array.Fill(clear, o.MinClearInterval);
        clear[(int)Indicator.PatError] = Math.Max(o.PatInterval, o.MinClearInterval);
        clear[(int)Indicator.PmtError] = Math.Max(o.PmtInterval, o.MinClearInterval);
        clear[(int)Indicator.PidError] = Math.Max(o.PidTimeout, o.MinClearInterval);
        clear[(int)Indicator.PcrRepetitionError] = Math.Max(Math.Max(o.PcrInterval, o.PcrIntervalVariableRate), o.MinClearInterval);
        clear[(int)Indicator.PtsError] = Math.Max(o.PtsInterval, o.MinClearInterval);
        return clear;
    }
}
