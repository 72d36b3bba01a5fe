using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Detectors.Audio;

/// <summary>
/// <c>audio.clipping</c>: the waveform hits its ceiling and is flattened, in at least
/// <see cref="ClippingOptions.MinClipped"/> seconds of 10 ms units within <see cref="ClippingOptions.Window"/>.
/// <para>
/// astats' flat factor and peak count look for runs of identical samples at full scale; a lossy codec
/// (AAC, MP2, AC-3, Opus) leaves ripple, tilt and a level that wanders by a few per cent on the cut top, and
/// a clean full-scale sine or a limited master also sits at full scale. What survives the codec is the
/// shape of each top. Every half cycle (between zero crossings) whose peak P reaches
/// <see cref="ClippingOptions.LevelDb"/> is measured around its peak: the time it spends above 85 % of P
/// against the time above 40 % of P (both interpolated between samples). Near its top every smooth peak
/// is a parabola, whose times above two depths go as the square roots of the depths: the ratio is at most
/// √(0.15 / 0.6) = 0.5 for any frequency, amplitude or sum of such peaks (a sine: 0.49). A top cut flat
/// keeps its full width up to the cut: a sine clipped 1 dB over full scale scores 0.59, 4 dB 0.76,
/// 12 dB 0.92. A top scoring at least <see cref="ClippingOptions.Flatness"/> is flattened when it also
/// holds 93 % of the channel's ceiling: the highest level any half cycle holds within ±50 ms (the level held
/// is a half cycle's third-highest sample, so that a codec's overshoot spike beside a cut top does not raise
/// the ceiling over it). Clipping cuts every top at the same ceiling, while a limiter riding its gain inside
/// a peak flattens tops here and there below its ceiling. A 10 ms
/// unit is clipped when flattened tops (each counted across its width at 40 % of its peak) cover 5 % of it
/// on some channel; its judgement waits 130 ms, until every top that can reach into it is known.
/// </para>
/// </summary>
public sealed class ClippingDetector : IAudioDetector
{
    public const string KindName = "audio.clipping";

    private const float BaseShare = 0.40f, TopShare = 0.85f; // the two depths a top is measured at, as shares of its peak
    private const double MaxHalfCycleSeconds = 0.05;          // slower half cycles (below 10 Hz, offsets) are not tops
    private const double CeilingSeconds = 0.05;               // a top's ceiling: the channel's highest level within this, either side
    private const float CeilingShare = 0.93f;                 // a flattened top counts when it reaches this share of its ceiling
    private const int HeldSamples = 3;                        // a half cycle's level: what it holds for this many samples (not a codec's overshoot spike)
    private const double MinCover = 0.05;                     // share of a unit flattened tops must cover on a channel
    private const double MinBaseSamples = 2;                  // a top narrower than this at 40 % has no shape to judge

    private readonly ClippingOptions _options;
    private readonly IDefectSink _sink;
    private readonly float _floor;
    private readonly AudioUnits _units = new();

    // per channel: the half cycle being followed
    private HalfCycle[] _half = [];
    private long _position; // samples seen since the units (re)started

    // units not yet judged, in a ring by unit index: start time, and per channel its peak and flattened cover
    private int _ring, _lagSamples, _radius, _maxHalf, _channels, _length;
    private double _seconds;
    private double[] _unitStart = [];
    private float[] _unitCeiling = []; // per unit and channel: the highest level a half cycle centred in it held
    private int[] _unitCover = [];
    private long _unitsDone, _unitsJudged;

    // flattened tops waiting for their ceiling to be known
    private Top[] _tops = [];
    private int _topCount;

    // the window over judged units
    private int _window, _need, _windowHead, _windowFilled, _windowClipped;
    private bool[] _windowIsClipped = [];
    private double[] _windowStart = [];
    private ulong[] _windowChannels = [];
    private int[] _channelClipped = []; // per channel: clipped units in the window

    // the defect
    private bool _open;
    private double _start, _end, _peakFraction, _lastSatisfied, _expectedPts = double.NaN;
    private int? _channel; // details.channel as announced: part of the defect's identity, kept to its end

    public ClippingDetector(ClippingOptions options, IDefectSink sink)
    {
        _options = options;
        _sink = sink;
        _floor = (float)Math.Pow(10, options.LevelDb / 20);
    }

    public string Kind => KindName;

    public void Process(AudioBlock block)
    {
        if (!_units.Fits(block)) Configure();
        _expectedPts = block.Pts + block.Duration;
        foreach (var piece in _units.Split(block))
        {
            var slot = (int)(_unitsDone % _ring) * _channels;
            if (_position == _unitsDone * _length)
            {
                // a unit begins: its slot is free again
                _unitStart[_unitsDone % _ring] = piece.UnitStart;
                Array.Clear(_unitCeiling, slot, _channels);
                Array.Clear(_unitCover, slot, _channels);
            }
            for (var c = 0; c < _channels; c++)
            {
                var samples = block.Channel(c).Slice(piece.Offset, piece.Count);
                Scan(c, samples, TruePeakMeter.MaxAbs(samples));
            }
            _position += piece.Count;
            if (piece.Completes) CompleteUnit();
        }
    }

    /// <summary>The input stopped: the window cannot fill, so clipping is over once the window has passed since it last held.</summary>
    public void Tick(double now)
    {
        if (_channels == 0 || now - _expectedPts <= Continuity.MaxHole) return;
        Drain(); // the input stopped: the units still waiting for tops after them are judged with what there is
        if (_open && now - _lastSatisfied >= _options.Window) Close();
    }

    /// <summary>Nothing straddles a break in the audio: what was seen before it is judged, then everything starts over.</summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track != MediaTrack.Audio || _channels == 0) return;
        Drain();
        Close();
        Restart();
    }

    public void Flush(double endOfInput, string closedBy)
    {
        if (_channels == 0) return;
        Drain();
        Close(closedBy);
    }

    /// <summary>Follows the half cycles of channel <paramref name="c"/> through <paramref name="samples"/> (whose largest magnitude is <paramref name="peak"/>).</summary>
    private void Scan(int c, ReadOnlySpan<float> samples, float peak)
    {
        var h = _half[c];
        var n = samples.Length;
        if (peak < _floor && h.Peak < _floor)
        {
            // quiet (the usual case): nothing here can be a top; only keep where the last half cycle began
            var negative = samples[n - 1] < 0;
            var first = n - 1;
            while (first > 0 && samples[first - 1] < 0 == negative) first--;
            if (first > 0 || negative != h.Negative) h.Begin(_position + first, negative);
            h.Append(samples[first..], peak);
            return;
        }
        var from = 0;
        for (var i = 0; i < n; i++)
        {
            if (samples[i] < 0 == h.Negative) continue;
            h.Append(samples[from..i], peak);
            EndHalfCycle(c, h);
            h.Begin(_position + i, samples[i] < 0);
            from = i;
        }
        h.Append(samples[from..], peak);
    }

    /// <summary>A half cycle of channel <paramref name="c"/> ended: if its peak reached the level, its top is measured.</summary>
    private void EndHalfCycle(int c, HalfCycle h)
    {
        if (h.Peak < _floor || h.Overlong || h.Count == 0) return;
        var x = h.Samples.AsSpan(0, h.Count);
        // the peak, and the level held for HeldSamples (the third highest sample): a codec's overshoot spike
        // next to a clipped top lifts the first, not the second
        var k = 0;
        float second = 0, held = 0;
        for (var i = 1; i < x.Length; i++)
        {
            var v = x[i];
            if (v > x[k])
            {
                (held, second) = (second, x[k]);
                k = i;
            }
            else if (v > second) (held, second) = (second, v);
            else if (v > held) held = v;
        }
        var top = x[k];
        if (top < _floor) return;
        if (x.Length < HeldSamples) held = x.Length == 1 ? top : second;
        var centre = h.Start + k;
        var slot = (int)(centre / _length % _ring) * _channels + c;
        _unitCeiling[slot] = Math.Max(_unitCeiling[slot], held);
        float low = BaseShare * top, high = TopShare * top;
        int l = k, r = k;
        while (l > 0 && x[l - 1] >= low) l--;
        while (r < x.Length - 1 && x[r + 1] >= low) r++;
        var atBase = TimeAbove(x, l, r, low);
        if (atBase < MinBaseSamples || TimeAbove(x, l, r, high) < _options.Flatness * atBase) return;
        if (_topCount == _tops.Length) return; // cannot happen with the ring sized in Configure; never grows
        _tops[_topCount++] = new Top(h.Start + (l + r) / 2, (int)Math.Round(atBase), held, c);
    }

    /// <summary>
    /// Samples during which the polyline through x[l−1] … x[r+1] is at or above <paramref name="level"/>
    /// (x[l … r] is the run around the peak; beyond the half cycle the waveform is taken as crossing zero).
    /// </summary>
    private static double TimeAbove(ReadOnlySpan<float> x, int l, int r, float level)
    {
        var time = 0.0;
        var previous = l > 0 ? x[l - 1] : 0f;
        for (var i = l; i <= r + 1; i++)
        {
            var current = i < x.Length ? x[i] : 0f;
            bool a = previous >= level, b = current >= level;
            if (a && b) time += 1;
            else if (a) time += (previous - level) / (previous - current);
            else if (b) time += (current - level) / (current - previous);
            previous = current;
        }
        return time;
    }

    /// <summary>A unit is complete: tops whose ceiling is now known are placed, and units no top can reach any more are judged.</summary>
    private void CompleteUnit()
    {
        _unitsDone++;
        PlaceTops(_unitsDone * _length);
        while ((_unitsJudged + 1) * _length + _lagSamples <= _unitsDone * _length) Judge(_unitsJudged++);
    }

    /// <summary>Places the flattened tops whose ceiling lies within the first <paramref name="seen"/> samples: those that reach it cover their units.</summary>
    private void PlaceTops(long seen)
    {
        var length = _length;
        var oldest = Math.Max(0, _unitsDone - _ring + 1);
        var kept = 0;
        for (var i = 0; i < _topCount; i++)
        {
            var t = _tops[i];
            if (t.Center + _radius + _maxHalf >= seen) // a half cycle centred within the radius may still be going on
            {
                _tops[kept++] = t;
                continue;
            }
            var ceiling = 0f;
            var last = Math.Min(_unitsDone - 1, (t.Center + _radius) / length);
            for (var u = Math.Max(oldest, (t.Center - _radius) / length); u <= last; u++)
                ceiling = Math.Max(ceiling, _unitCeiling[(int)(u % _ring) * _channels + t.Channel]);
            if (t.Peak < CeilingShare * ceiling) continue;
            long from = t.Center - t.Width / 2, to = from + t.Width;
            for (var u = Math.Max(_unitsJudged, from / length); u * length < to && u < _unitsDone; u++)
            {
                var covered = Math.Min(to, (u + 1) * length) - Math.Max(from, u * length);
                _unitCover[(int)(u % _ring) * _channels + t.Channel] += (int)covered;
            }
        }
        _topCount = kept;
    }

    /// <summary>Unit <paramref name="u"/> is final: clipped on the channels its flattened tops cover enough, then into the window.</summary>
    private void Judge(long u)
    {
        var slot = (int)(u % _ring) * _channels;
        var need = (int)Math.Ceiling(MinCover * _length);
        var channels = 0UL;
        for (var c = 0; c < _channels; c++)
            if (_unitCover[slot + c] >= need) channels |= 1UL << Math.Min(c, 63);
        var start = _unitStart[u % _ring];
        Decide(start, start + _seconds, channels);
    }

    /// <summary>The window moves on by one judged unit; the defect opens, goes on or closes.</summary>
    private void Decide(double start, double end, ulong channels)
    {
        var clipped = channels != 0;
        if (_windowFilled == _window)
        {
            if (_windowIsClipped[_windowHead]) _windowClipped--;
            CountChannels(_windowChannels[_windowHead], -1);
            _windowFilled--;
        }
        _windowIsClipped[_windowHead] = clipped;
        _windowStart[_windowHead] = start;
        _windowChannels[_windowHead] = channels;
        if (clipped) _windowClipped++;
        CountChannels(channels, +1);
        _windowHead = (_windowHead + 1) % _window;
        _windowFilled++;

        var fraction = _windowClipped / (double)_window;
        if (_windowClipped >= _need)
        {
            if (!_open)
            {
                // clipping starts at the first clipped unit of the window that reached the threshold
                _open = true;
                _start = FirstClippedInWindow();
                _end = end;
                _peakFraction = fraction;
                _channel = null;
                if (_channels > 1)
                {
                    int count = 0, only = -1;
                    for (var c = 0; c < _channels; c++)
                        if (_channelClipped[c] > 0) (count, only) = (count + 1, c);
                    if (count == 1) _channel = only;
                }
                _sink.DefectStarted(Make(null));
            }
            if (clipped) _end = end;
            _peakFraction = Math.Max(_peakFraction, fraction);
            _lastSatisfied = end;
        }
        else if (_open && end - _lastSatisfied >= _options.Window)
        {
            Close();
        }
    }

    private void CountChannels(ulong channels, int step)
    {
        for (var c = 0; channels != 0 && c < _channels; c++, channels >>= 1)
            if ((channels & 1) != 0) _channelClipped[c] += step;
    }

    private double FirstClippedInWindow()
    {
        for (var k = 0; k < _windowFilled; k++)
        {
            var i = (_windowHead - _windowFilled + k + _window) % _window;
            if (_windowIsClipped[i]) return _windowStart[i];
        }
        return _windowStart[(_windowHead - 1 + _window) % _window];
    }

    /// <summary>The end of the audio (or a break in it): the half cycles in progress end, every known top is placed and every complete unit judged.</summary>
    private void Drain()
    {
        for (var c = 0; c < _channels; c++)
        {
            var h = _half[c];
            EndHalfCycle(c, h);
            h.Begin(_position, h.Negative); // measured once: a later drain or sample starts a new one
        }
        PlaceTops(long.MaxValue / 2);
        while (_unitsJudged < _unitsDone) Judge(_unitsJudged++);
    }

    private void Close(string? closedBy = null)
    {
        if (!_open) return;
        _open = false;
        var defect = Make(_end);
        _sink.DefectEnded(closedBy is null ? defect : defect.ClosedByMonitor(closedBy));
    }

    private Defect Make(double? end)
    {
        var details = new Dictionary<string, double> { ["clipped_fraction"] = Math.Round(Math.Min(1, _peakFraction), 3) };
        if (_channel is { } channel) details[DetailNames.Channel] = channel;
        var confidence = Math.Clamp(0.5 + 0.5 * (_peakFraction * _options.Window - _options.MinClipped) / _options.MinClipped, 0.5, 1);
        return new Defect(KindName, _start, end, confidence, details);
    }

    /// <summary>Everything starts over (a discontinuity): no half cycle, top, unit or window straddles it.</summary>
    private void Restart()
    {
        _units.Reset();
        foreach (var h in _half) h.Begin(0, false);
        _position = _unitsDone = _unitsJudged = 0;
        _topCount = 0;
        _windowHead = _windowFilled = _windowClipped = 0;
        Array.Clear(_channelClipped);
    }

    private void Configure()
    {
        if (_channels > 0)
        {
            Drain();
            Close(); // the format changed: what was open ends with the old format
        }
        _channels = _units.Channels;
        var rate = _units.SampleRate;
        var length = _length = _units.Length;
        _seconds = _units.Seconds;
        _maxHalf = (int)Math.Round(MaxHalfCycleSeconds * rate);
        _radius = (int)Math.Round(CeilingSeconds * rate);
        // a top covers its unit once its half cycle has ended (≤ one half cycle after its centre, its cover
        // reaching half a half cycle either side) and its ceiling is known (radius after its centre)
        _lagSamples = _maxHalf * 3 / 2 + _radius + 2;
        _ring = (_lagSamples + _radius + _maxHalf) / length + 4;
        _unitStart = new double[_ring];
        _unitCeiling = new float[_ring * _channels];
        _unitCover = new int[_ring * _channels];
        _half = new HalfCycle[_channels];
        for (var c = 0; c < _channels; c++) _half[c] = new HalfCycle(_maxHalf);
        // tops waiting: at most one per half cycle of at least MinBaseSamples over the lag, per channel
        _tops = new Top[_channels * ((_lagSamples + _radius + length) / 2 + 16)];
        _window = Math.Max(1, (int)Math.Round(_options.Window / _seconds));
        _need = Math.Max(1, (int)Math.Round(_options.MinClipped / _seconds));
        _windowIsClipped = new bool[_window];
        _windowStart = new double[_window];
        _windowChannels = new ulong[_window];
        _channelClipped = new int[_channels];
        Restart();
    }

    /// <summary>A flattened top: its centre (absolute sample), its width at 40 % of its peak, its peak, its channel.</summary>
    private readonly record struct Top(long Center, int Width, float Peak, int Channel);

    /// <summary>The magnitudes of one channel's current half cycle (up to <see cref="MaxHalfCycleSeconds"/>).</summary>
    private sealed class HalfCycle(int capacity)
    {
        public readonly float[] Samples = new float[capacity];
        public int Count;
        public long Start;
        public bool Negative, Overlong;
        public float Peak; // an upper bound of the magnitudes in it

        public void Begin(long start, bool negative)
        {
            Start = start;
            Negative = negative;
            Count = 0;
            Overlong = false;
            Peak = 0;
        }

        public void Append(ReadOnlySpan<float> samples, float peakBound)
        {
            if (samples.IsEmpty) return;
            Peak = Math.Max(Peak, peakBound);
            if (Overlong) return;
            if (Count + samples.Length > Samples.Length)
            {
                Overlong = true;
                return;
            }
            var to = Samples.AsSpan(Count, samples.Length);
            for (var i = 0; i < samples.Length; i++) to[i] = Math.Abs(samples[i]);
            Count += samples.Length;
        }
    }
}
