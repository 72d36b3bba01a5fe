namespace Vigil.Transport;

/// <summary>
/// Transport time: seconds on the multiplex's clock, from PCRs and byte positions, so that a file is timed
/// as the mux sent it and the answer never depends on how fast the input was read. One PCR PID (the first
/// seen) is the reference. At each of its PCRs time is exactly the PCR's (time starts at 0 at the first);
/// between PCRs it advances with the bytes at the mean mux rate of the last second, but by at most
/// <see cref="MaxAhead"/> past the last PCR: a variable-rate mux sends a large picture as a burst, and time
/// must not run ahead through it. Only when the PCRs stop for more than a second's worth of bytes does time
/// run on at the mean rate. It never goes back, and runs on across PCR discontinuities (a splice).
/// </summary>
internal sealed class MuxClock
{
    /// <summary>A reference PID silent for this long gives way to another PCR PID.</summary>
    private const double StaleReference = 0.5;
    /// <summary>PCR steps above this are discontinuities, not time.</summary>
    private const long MaxStep = (long)TsPacket.ClockHz;
    /// <summary>PCR steps up to this (the largest TR 101 290 allows) are time whatever the bytes say.</summary>
    private const long RegularStep = (long)(0.100 * TsPacket.ClockHz);
    /// <summary>Between PCRs time runs at most this far past the last one (the longest legal PCR interval).</summary>
    private const double MaxAhead = 0.100;
    /// <summary>Past this much byte-time without a PCR, time follows the bytes again.</summary>
    private const double Outage = 1.0;
    /// <summary>The mean rate spans up to this many PCR intervals (about a second at 40 ms).</summary>
    private const int Window = 32;

    private readonly long[] _windowPcr = new long[Window];    // unwrapped 27 MHz
    private readonly long[] _windowPosition = new long[Window];
    private int _windowCount, _windowNext;
    private int _pid = -1;
    private long _lastPcr, _unwrapped;
    private long _lastPosition;
    private double _lastPcrTime;
    private double _bitsPerSecond;
    private double _time;

    /// <summary>The mean mux rate over about the last second of reference PCRs (bits/s of 188-byte packets); 0 until known.</summary>
    public double BitsPerSecond => _bitsPerSecond;

    public bool Running => _bitsPerSecond > 0;

    /// <summary>Transport time of the byte at <paramref name="position"/> (non-decreasing in position).</summary>
    public double At(long position)
    {
        if (_bitsPerSecond <= 0) return _time;
        var ahead = (position - _lastPosition) * 8 / _bitsPerSecond;
        var t = _lastPcrTime + (ahead <= MaxAhead ? ahead : ahead <= Outage ? MaxAhead : ahead - (Outage - MaxAhead));
        if (t > _time) _time = t;
        return _time;
    }

    public void OnPcr(int pid, long pcr, long position, bool discontinuity)
    {
        if (_pid < 0)
        {
            _pid = pid;
            Anchor(pcr, position, 0, restart: true);
            return;
        }
        if (pid != _pid)
        {
            if (!Running || (position - _lastPosition) * 8 / _bitsPerSecond < StaleReference) return;
            _pid = pid; // the reference went quiet: carry on with this one
            Anchor(pcr, position, At(position), restart: true);
            return;
        }
        var step = TsPacket.WrapDifference(pcr, _lastPcr, TsPacket.PcrWrap);
        if (!discontinuity && position > _lastPosition && Plausible(step, position - _lastPosition))
            Anchor(pcr, position, _lastPcrTime + step / TsPacket.ClockHz, restart: false); // locked to the PCR; At never goes back
        else
            Anchor(pcr, position, At(position), restart: true);
    }

    /// <summary>
    /// Whether a PCR step is time: up to 100 ms always (a variable-rate mux sends bytes in bursts, so only
    /// its PCRs tell time); longer (up to a second, PCRs missing) when the bytes in between agree within half.
    /// Anything else (a jump, a step back) is a discontinuity, across which time follows the bytes.
    /// </summary>
    private bool Plausible(long step, long bytes)
    {
        if (step <= 0 || step > MaxStep) return false;
        if (step <= RegularStep || !Running) return true;
        var byBytes = bytes * 8 / _bitsPerSecond * TsPacket.ClockHz;
        return Math.Abs(byBytes - step) <= step / 2.0;
    }

    private void Anchor(long pcr, long position, double time, bool restart)
    {
        _unwrapped = restart ? 0 : _unwrapped + TsPacket.WrapDifference(pcr, _lastPcr, TsPacket.PcrWrap);
        if (restart) _windowCount = 0;
        _lastPcr = pcr;
        _lastPosition = position;
        _lastPcrTime = time;
        _windowPcr[_windowNext] = _unwrapped;
        _windowPosition[_windowNext] = position;
        _windowNext = (_windowNext + 1) % Window;
        if (_windowCount < Window) _windowCount++;
        if (_windowCount < 2) return;
        var oldest = (_windowNext - _windowCount + Window) % Window;
        var ticks = _unwrapped - _windowPcr[oldest];
        if (ticks > 0) _bitsPerSecond = (position - _windowPosition[oldest]) * 8 * TsPacket.ClockHz / ticks;
    }
}
