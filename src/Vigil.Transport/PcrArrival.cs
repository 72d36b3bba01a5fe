namespace Vigil.Transport;

/// <summary>
/// 2.4 on a live input: a PCR PID's PCRs against the time their bytes arrived (TR 101 290's PCR_OJ, overall
/// jitter, measured at the receiver), which works whatever the mux rate, variable or constant.
/// <para>
/// For each PCR, d = arrival − PCR (seconds, from the first PCR of the run). A PCR that is right arrives at
/// its sender's time plus a delay, and delays are only ever positive: the network, the kernel's socket buffer,
/// FFmpeg's UDP FIFO and a reader busy decoding can hold bytes back (and then hand them over in a burst) but
/// never deliver them early. So d lies on or above a floor: the prompt arrivals, a line whose slope is the
/// drift between the sender's 27 MHz clock and the receiver's (ppm: fitted out, at most
/// <see cref="MaxDrift"/>). The floor is the lower envelope of d over the last <see cref="WindowBins"/> ×
/// <see cref="BinSeconds"/> (the minimum of each half second, and the line under all of them that runs
/// through the middle of the window). A PCR that is wrong by +x (its value ahead of its bytes) lies x below
/// the floor, which no waiting can cause: it is an error when it lies more than the tolerance below the floor
/// of the past, unless most PCRs of the next <see cref="LookAhead"/> lie below it too. That is the floor
/// coming down (a reader that was behind for the whole window caught up, the sender's path got shorter),
/// which moves every later PCR down with it; the PCR is then an error only if it lies the tolerance below all
/// of them as well (drift applied).
/// </para>
/// <para>
/// Limits, by construction: a PCR wrong by −x (behind its bytes) looks like bytes that waited x and is not
/// judged; PCRs wrong by the same amount for most of a second form a floor of their own (a step). Jitter
/// injected into every PCR is caught from where it starts until the floor has come down to its lowest
/// values. Errors are decided <see cref="LookAhead"/> after their PCR and reported at its time; a PCR judged
/// wrong takes no part in the floor. Memory is fixed (rings of PCRs and bins); the work is a few operations
/// per PCR and a hull over at most 20 points per half second.
/// </para>
/// </summary>
internal sealed class PcrArrival(double tolerance, Action<double> fail)
{
    /// <summary>The floor's bins: the lowest d of each half second of arrival.</summary>
    private const double BinSeconds = 0.5;
    /// <summary>The floor spans 10 s: a reader behind for less than that does not lift it.</summary>
    private const int WindowBins = 20;
    /// <summary>Judged once 2 s of PCRs form the floor.</summary>
    private const int MinBins = 4;
    /// <summary>A PCR is decided once the PCRs of this much transport time after it are in.</summary>
    public const double LookAhead = 1.0;
    /// <summary>Sender against receiver: ISO/IEC 13818-1 allows ±30 ppm on the 27 MHz clock, a PC's crystal as much again.</summary>
    private const double MaxDrift = 100e-6;
    /// <summary>Bytes that come faster or slower than their PCRs by more than 1 % are not paced in real time (a file served over TCP): not judged.</summary>
    private const double MaxPace = 0.01;
    /// <summary>A PCR is judged only with at least this many PCRs after it (the end of the input leaves the last undecided).</summary>
    private const int MinFollowing = 3;
    /// <summary>PCRs awaiting their decision at most (a PCR in every packet of a fast PID): the oldest is decided early.</summary>
    private const int Capacity = 512;

    private readonly double[] _arrival = new double[Capacity];
    private readonly double[] _d = new double[Capacity];
    private readonly double[] _floor = new double[Capacity];   // the past floor at its arrival; NaN: not judged
    private readonly double[] _time = new double[Capacity];    // transport time of the PCR
    private readonly bool[] _counted = new bool[Capacity];     // already an error by the mux-rate method
    private int _head, _count;

    private readonly double[] _binArrival = new double[WindowBins];
    private readonly double[] _binD = new double[WindowBins];
    private readonly int[] _hull = new int[WindowBins];
    private int _binNext, _binCount;
    private long _openBin = long.MinValue;
    private double _openArrival, _openD;

    private double _a, _b;     // the floor: a + b·arrival
    private bool _judging;
    private bool _anchored;
    private double _arrival0, _pcr0;

    /// <summary>Drift between sender and receiver the floor last fitted (seconds per second), for diagnostics and tests.</summary>
    public double Drift => _b;

    /// <summary>
    /// One PCR: <paramref name="arrival"/> (seconds, the receiver's clock) of the bytes that completed its packet,
    /// <paramref name="pcr"/> its value in seconds (unwrapped), <paramref name="time"/> its transport time.
    /// <paramref name="counted"/>: the mux-rate method already counted it as an error (one PCR, one error).
    /// </summary>
    public void OnPcr(double arrival, double pcr, double time, bool counted)
    {
        if (!_anchored)
        {
            _anchored = true;
            _arrival0 = arrival;
            _pcr0 = pcr;
        }
        var t = arrival - _arrival0;
        var d = t - (pcr - _pcr0);
        if (_count == Capacity) Decide();
        var k = (_head + _count) % Capacity;
        _arrival[k] = t;
        _d[k] = d;
        _floor[k] = _judging ? _a + _b * t : double.NaN;
        _time[k] = time;
        _counted[k] = counted;
        _count++;
        while (_count > 0 && _time[_head] + LookAhead <= time) Decide();
    }

    /// <summary>The PCR clock restarted (discontinuity, irregular step): decide what is pending, then start a new floor.</summary>
    public void Restart()
    {
        Flush();
        _binCount = 0;
        _openBin = long.MinValue;
        _judging = false;
        _anchored = false;
    }

    /// <summary>End of input, or a restart: pending PCRs are decided on what followed them.</summary>
    public void Flush()
    {
        while (_count > 0) Decide();
    }

    /// <summary>
    /// Decides the oldest pending PCR. Below the past floor by more than the tolerance, it is an error unless most
    /// PCRs of the next second are below it too (the floor came down: a reader that was behind caught up), in
    /// which case it is an error only if it also lies below every one of them by the tolerance.
    /// </summary>
    private void Decide()
    {
        var i = _head;
        _head = (_head + 1) % Capacity;
        _count--;
        if (_counted[i]) return;
        if (_d[i] - _floor[i] < -tolerance)
        {
            var lowest = double.PositiveInfinity;
            int following = 0, below = 0;
            for (var n = 0; n < _count; n++)
            {
                var j = (_head + n) % Capacity;
                if (_time[j] > _time[i] + LookAhead) break;
                // measured against this PCR's floor: theirs may already have come down
                var d = _d[j] - _b * (_arrival[j] - _arrival[i]);
                following++;
                if (d - _floor[i] < -tolerance) below++;
                lowest = Math.Min(lowest, d);
            }
            var floorCameDown = 3 * below >= 2 * following;
            if (following >= MinFollowing && (!floorCameDown || _d[i] < lowest - tolerance))
            {
                fail(_time[i]);
                return;
            }
        }
        Add(_arrival[i], _d[i]);
    }

    /// <summary>A decided PCR joins the floor's bins.</summary>
    private void Add(double t, double d)
    {
        var bin = (long)Math.Floor(t / BinSeconds);
        if (bin == _openBin)
        {
            if (d < _openD) (_openArrival, _openD) = (t, d);
            return;
        }
        if (_openBin != long.MinValue)
        {
            _binArrival[_binNext] = _openArrival;
            _binD[_binNext] = _openD;
            _binNext = (_binNext + 1) % WindowBins;
            if (_binCount < WindowBins) _binCount++;
            Fit();
        }
        _openBin = bin;
        (_openArrival, _openD) = (t, d);
    }

    /// <summary>
    /// The floor: the lower convex hull of the bins' minima, and of it the edge over the window's mean arrival
    /// (the line under every point that lies highest on average: Moon, Skelly and Towsley's linear-programming
    /// estimate of clock skew from one-way delays), its slope held to ±<see cref="MaxDrift"/>.
    /// </summary>
    private void Fit()
    {
        _judging = false;
        if (_binCount < MinBins) return;
        var first = (_binNext - _binCount + WindowBins) % WindowBins;
        var hull = 0;
        var mean = 0.0;
        for (var n = 0; n < _binCount; n++)
        {
            var k = (first + n) % WindowBins;
            mean += _binArrival[k];
            while (hull >= 2 && Cross(_hull[hull - 2], _hull[hull - 1], k) <= 0) hull--;
            _hull[hull++] = k;
        }
        mean /= _binCount;
        var slope = 0.0;
        for (var h = 0; h + 1 < hull; h++)
        {
            if (_binArrival[_hull[h + 1]] < mean && h + 2 < hull) continue;
            slope = (_binD[_hull[h + 1]] - _binD[_hull[h]]) / (_binArrival[_hull[h + 1]] - _binArrival[_hull[h]]);
            break;
        }
        if (Math.Abs(slope) > MaxPace) return; // not arriving in real time
        _b = Math.Clamp(slope, -MaxDrift, MaxDrift);
        _a = double.PositiveInfinity;
        for (var n = 0; n < _binCount; n++)
        {
            var k = (first + n) % WindowBins;
            _a = Math.Min(_a, _binD[k] - _b * _binArrival[k]);
        }
        _judging = true;
    }

    /// <summary>Whether o → a → b turns left (positive): the lower hull keeps only left turns.</summary>
    private double Cross(int o, int a, int b) =>
        (_binArrival[a] - _binArrival[o]) * (_binD[b] - _binD[o]) - (_binD[a] - _binD[o]) * (_binArrival[b] - _binArrival[o]);
}
