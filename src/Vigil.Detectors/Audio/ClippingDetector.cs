using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Detectors.Audio;

/// <summary>
/// <c>audio.clipping</c>: the waveform hits full scale and is flattened, for at least
/// <see cref="ClippingOptions.MinClipped"/> seconds in total within <see cref="ClippingOptions.Window"/>.
/// <para>
/// astats' flat factor and peak count look for runs of identical samples at full scale; a lossy codec
/// (AAC, MP2, AC-3, Opus) removes those plateaus (the top ripples, the peak moves to about −0.1 dB or
/// above 0 dBFS), and a clean full-scale sine or a limited master also sits at full scale. What survives
/// the codec is the shape: a clipped top stays near the ceiling far longer than a smooth peak with the
/// same flanks. For every excursion of the (lightly low-passed, to calm codec ripple) waveform above
/// <see cref="ClippingOptions.LevelDb"/>, the mean slope s of its two flanks, its length n and its
/// height h above the level are compared: a smooth (parabolic) peak has s·n = 4h exactly, whatever its
/// frequency or amplitude; a plateau cut from a steep waveform has s·n ≫ 4h. Excursions at least
/// <see cref="ClippingOptions.Flatness"/> times wider than smooth count their length as clipped time.
/// </para>
/// </summary>
public sealed class ClippingDetector : IAudioDetector
{
    public const string KindName = "audio.clipping";
    private const double UnitSeconds = 0.010;

    private readonly ClippingOptions _options;
    private readonly IDefectSink _sink;
    private readonly float _level;
    private Channel[] _state = [];
    private int _channels, _sampleRate, _unitLength, _unitFilled, _minRun;
    private double _unitStart = double.NaN, _expectedPts = double.NaN;
    // the window: clipped seconds per unit, as a ring
    private double[] _ringClipped = [];   // per unit: seconds clipped on any channel
    private double[] _ringChannels = [];  // per unit and channel: seconds clipped
    private double[] _ringStart = [];
    private int _ringHead, _ringCount;
    private double _windowClipped;
    // the defect
    private bool _open;
    private double _start, _end, _peakFraction, _lastSatisfied;
    private int? _channel;                 // details.channel as announced: part of the defect's identity, kept to its end
    private double[] _channelClipped = []; // per channel: seconds clipped in the window, then in the defect
    private float[] _x = [], _y = [];              // scratch: a segment with the low-pass history, and low-passed
    private long[] _runStarts = [], _runEnds = []; // flattened runs (sample positions, any channel) ended in this unit
    private int _runCount;

    public ClippingDetector(ClippingOptions options, IDefectSink sink)
    {
        _options = options;
        _sink = sink;
        _level = (float)Math.Pow(10, options.LevelDb / 20);
    }

    public string Kind => KindName;

    public void Process(AudioBlock block)
    {
        if (block.Channels != _channels || block.SampleRate != _sampleRate) Configure(block);
        _expectedPts = block.Pts + block.Duration;

        var offset = 0;
        while (offset < block.SampleCount)
        {
            if (_unitFilled == 0) _unitStart = block.Pts + offset / (double)_sampleRate;
            var take = Math.Min(_unitLength - _unitFilled, block.SampleCount - offset);
            for (var c = 0; c < _channels; c++) Scan(ref _state[c], block.Channel(c).Slice(offset, take));
            _unitFilled += take;
            offset += take;
            if (_unitFilled == _unitLength) CompleteUnit();
        }
    }

    /// <summary>The input stopped: the window cannot fill, so clipping is over once the window has passed since it last held.</summary>
    public void Tick(double now)
    {
        if (_open && now - _expectedPts > Continuity.MaxHole && now - _lastSatisfied >= _options.Window) Close();
    }

    /// <summary>Nothing straddles a break in the audio: the window and the runs start over.</summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track == MediaTrack.Audio) Restart();
    }

    public void Flush(double endOfInput, string closedBy) => Close(closedBy);

    /// <summary>Follows excursions above the level through <paramref name="samples"/>, adding the flattened ones to the channel's clipped samples.</summary>
    private void Scan(ref Channel ch, ReadOnlySpan<float> samples)
    {
        var n = samples.Length;
        var level = _level;
        if (!ch.InRun && n >= 5 && Math.Max(TruePeakMeter.MaxAbs(samples), ch.HistoryMax) < level)
        {
            // quiet stretch (the usual case): the low-pass cannot reach the level, only keep its history
            ch.Push(samples);
            return;
        }

        // 5-tap binomial low-pass (−6 dB at ~8.7 kHz at 48 kHz): flattens the ripple a codec leaves on a plateau
        var x = _x.AsSpan(0, n + 4);
        x[0] = ch.H0; x[1] = ch.H1; x[2] = ch.H2; x[3] = ch.H3;
        samples.CopyTo(x[4..]);
        var y = _y.AsSpan(0, n);
        LowPass(x, y);

        // runs of samples above +level or below −level, found from the bits where either mask changes
        var words = (n + 63) >> 6;
        Span<ulong> above = stackalloc ulong[words];
        Span<ulong> below = stackalloc ulong[words];
        ZoneMasks(y, level, above, below);
        var zone = ch.InRun ? (ch.Positive ? 1 : -1) : 0; // zone of the sample before the next transition
        for (var w = 0; w < words; w++)
        {
            ulong p = above[w], q = below[w];
            var changes = (p ^ ((p << 1) | (zone > 0 ? 1UL : 0))) | (q ^ ((q << 1) | (zone < 0 ? 1UL : 0)));
            if (w == words - 1 && (n & 63) != 0) changes &= (1UL << (n & 63)) - 1;
            while (changes != 0)
            {
                var bit = BitOperations.TrailingZeroCount(changes);
                changes &= changes - 1;
                var i = (w << 6) + bit;
                var before = i == 0 ? ch.Previous : y[i - 1];
                if (zone != 0) EndRunAt(ref ch, y, i, Math.Abs(before - y[i]));
                zone = (p >> bit & 1) != 0 ? 1 : (q >> bit & 1) != 0 ? -1 : 0;
                if (zone != 0)
                {
                    // an excursion starts: its entry slope is the flank it arrives on
                    ch.InRun = true;
                    ch.Positive = zone > 0;
                    ch.RunStart = ch.Position + i;
                    ch.Top = 0;
                    ch.EntrySlope = Math.Abs(y[i] - before);
                }
            }
        }
        if (ch.InRun) ch.Top = Math.Max(ch.Top, TruePeakMeter.MaxAbs(y[(int)Math.Max(0, ch.RunStart - ch.Position)..]));
        ch.Position += n;
        ch.Previous = y[^1];
        ch.H0 = x[n]; ch.H1 = x[n + 1]; ch.H2 = x[n + 2]; ch.H3 = x[n + 3];
        ch.HistoryMax = Math.Max(Math.Max(Math.Abs(ch.H0), Math.Abs(ch.H1)), Math.Max(Math.Abs(ch.H2), Math.Abs(ch.H3)));
    }

    /// <summary>The excursion in progress ends before <paramref name="i"/> of this segment.</summary>
    private void EndRunAt(ref Channel ch, ReadOnlySpan<float> y, int i, float exitSlope)
    {
        var from = (int)Math.Max(0, ch.RunStart - ch.Position);
        ch.Top = Math.Max(ch.Top, TruePeakMeter.MaxAbs(y[from..i]));
        ch.Length = (int)(ch.Position + i - ch.RunStart);
        EndRun(ref ch, exitSlope);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LowPass(ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref var x0 = ref MemoryMarshal.GetReference(x);
            ref var y0 = ref MemoryMarshal.GetReference(y);
            Vector<float> four = new(4), six = new(6), sixteenth = new(1f / 16);
            for (; i + Vector<float>.Count <= y.Length; i += Vector<float>.Count)
            {
                var sum = Vector.LoadUnsafe(ref x0, (nuint)i) + Vector.LoadUnsafe(ref x0, (nuint)(i + 4));
                sum = Vector.FusedMultiplyAdd(four, Vector.LoadUnsafe(ref x0, (nuint)(i + 1)) + Vector.LoadUnsafe(ref x0, (nuint)(i + 3)), sum);
                sum = Vector.FusedMultiplyAdd(six, Vector.LoadUnsafe(ref x0, (nuint)(i + 2)), sum);
                (sum * sixteenth).StoreUnsafe(ref y0, (nuint)i);
            }
        }
        for (; i < y.Length; i++) y[i] = (x[i] + 4 * x[i + 1] + 6 * x[i + 2] + 4 * x[i + 3] + x[i + 4]) * (1f / 16);
    }

    /// <summary>Bit i of <paramref name="above"/> / <paramref name="below"/>: y[i] ≥ level / y[i] ≤ −level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ZoneMasks(ReadOnlySpan<float> y, float level, Span<ulong> above, Span<ulong> below)
    {
        above.Clear();
        below.Clear();
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var y0 = ref MemoryMarshal.GetReference(y);
            var high = Vector256.Create(level);
            var low = Vector256.Create(-level);
            for (; i + 8 <= y.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref y0, (nuint)i);
                above[i >> 6] |= (ulong)Vector256.GreaterThanOrEqual(v, high).ExtractMostSignificantBits() << (i & 63);
                below[i >> 6] |= (ulong)Vector256.LessThanOrEqual(v, low).ExtractMostSignificantBits() << (i & 63);
            }
        }
        for (; i < y.Length; i++)
        {
            if (y[i] >= level) above[i >> 6] |= 1UL << (i & 63);
            else if (y[i] <= -level) below[i >> 6] |= 1UL << (i & 63);
        }
    }

    private void EndRun(ref Channel ch, float exitSlope)
    {
        ch.InRun = false;
        if (ch.Length < _minRun) return;
        // a parabolic top crossing the level with slope s spans n = 4h/s samples; flattened tops span far more
        var smooth = 4 * Math.Max(ch.Top - _level, 1e-6f);
        var flatness = 0.5 * (ch.EntrySlope + exitSlope) * ch.Length / smooth;
        if (flatness < _options.Flatness) return;
        ch.Clipped += ch.Length;
        if (_runCount < _runStarts.Length)
        {
            _runStarts[_runCount] = ch.RunStart;
            _runEnds[_runCount++] = ch.RunStart + ch.Length;
        }
    }

    /// <summary>Samples covered by the runs of this unit on any channel (the union: stereo clips mostly together, not always).</summary>
    private long UnionOfRuns()
    {
        // insertion sort by start: a unit holds a handful of runs
        for (var i = 1; i < _runCount; i++)
        {
            var (s, e) = (_runStarts[i], _runEnds[i]);
            var j = i - 1;
            for (; j >= 0 && _runStarts[j] > s; j--)
            {
                _runStarts[j + 1] = _runStarts[j];
                _runEnds[j + 1] = _runEnds[j];
            }
            _runStarts[j + 1] = s;
            _runEnds[j + 1] = e;
        }
        long total = 0, coveredTo = long.MinValue;
        for (var i = 0; i < _runCount; i++)
        {
            var from = Math.Max(_runStarts[i], coveredTo);
            if (_runEnds[i] > from) total += _runEnds[i] - from;
            coveredTo = Math.Max(coveredTo, _runEnds[i]);
        }
        _runCount = 0;
        return total;
    }

    private void CompleteUnit()
    {
        var start = _unitStart;
        var end = start + _unitLength / (double)_sampleRate;
        if (_ringCount == _ringClipped.Length)
        {
            _windowClipped -= _ringClipped[_ringHead];
            if (!_open)
                for (var c = 0; c < _channels; c++) _channelClipped[c] -= _ringChannels[_ringHead * _channels + c];
            _ringCount--;
        }
        for (var c = 0; c < _channels; c++)
        {
            var seconds = _state[c].Clipped / (double)_sampleRate;
            _state[c].Clipped = 0;
            _ringChannels[_ringHead * _channels + c] = seconds;
            _channelClipped[c] = Math.Max(0, _channelClipped[c] + seconds);
        }
        var clipped = UnionOfRuns() / (double)_sampleRate; // time clipped on any channel
        _unitFilled = 0;
        _ringClipped[_ringHead] = clipped;
        _ringStart[_ringHead] = start;
        _ringHead = (_ringHead + 1) % _ringClipped.Length;
        _ringCount++;
        _windowClipped = Math.Max(0, _windowClipped + clipped);

        if (_windowClipped >= _options.MinClipped - 1e-9)
        {
            if (!_open)
            {
                // clipping starts at the first clipped unit of the window that reached the threshold
                _open = true;
                _start = FirstClippedInWindow();
                _end = end;
                _peakFraction = _windowClipped / _options.Window;
                _sink.DefectStarted(Make(null));
            }
            if (clipped > 0) _end = end;
            _peakFraction = Math.Max(_peakFraction, _windowClipped / _options.Window);
            _lastSatisfied = end;
        }
        else if (_open && end - _lastSatisfied >= _options.Window)
        {
            Close();
        }
    }

    private double FirstClippedInWindow()
    {
        for (var k = 0; k < _ringCount; k++)
        {
            var i = (_ringHead - _ringCount + k + _ringClipped.Length) % _ringClipped.Length;
            if (_ringClipped[i] > 0) return _ringStart[i];
        }
        return _unitStart;
    }

    private void Close(string? closedBy = null)
    {
        if (!_open) return;
        _open = false;
        var defect = Make(_end);
        _sink.DefectEnded(closedBy is null ? defect : defect.ClosedByMonitor(closedBy));
        // back to window sums for the next defect
        Array.Clear(_channelClipped);
        for (var k = 0; k < _ringCount; k++)
        {
            var i = (_ringHead - _ringCount + k + _ringClipped.Length) % _ringClipped.Length;
            for (var c = 0; c < _channels; c++) _channelClipped[c] += _ringChannels[i * _channels + c];
        }
    }

    private Defect Make(double? end)
    {
        var details = new Dictionary<string, double> { ["clipped_fraction"] = Math.Round(Math.Min(1, _peakFraction), 3) };
        if (end is null && _channels > 1)
        {
            var clipping = Enumerable.Range(0, _channels).Where(c => _channelClipped[c] > 0).ToList();
            _channel = clipping.Count == 1 ? clipping[0] : null;
        }
        if (_channel is { } channel) details[DetailNames.Channel] = channel;
        var confidence = Math.Clamp(0.5 + 0.5 * (_peakFraction * _options.Window - _options.MinClipped) / _options.MinClipped, 0.5, 1);
        return new Defect(KindName, _start, end, confidence, details);
    }

    private void Restart()
    {
        Close();
        for (var c = 0; c < _channels; c++) _state[c] = default;
        Array.Clear(_channelClipped);
        _runCount = 0;
        _ringHead = _ringCount = 0;
        _windowClipped = 0;
        _unitFilled = 0;
    }

    private void Configure(AudioBlock block)
    {
        Close();
        _channels = block.Channels;
        _sampleRate = block.SampleRate;
        _unitLength = Math.Max(1, (int)Math.Round(_sampleRate * UnitSeconds));
        _minRun = Math.Max(3, (int)Math.Round(4.0 * _sampleRate / 48000));
        _state = new Channel[_channels];
        _channelClipped = new double[_channels];
        _x = new float[_unitLength + 4];
        _y = new float[_unitLength];
        _runStarts = new long[_channels * (_unitLength / _minRun + 4)];
        _runEnds = new long[_runStarts.Length];
        _runCount = 0;
        var units = Math.Max(1, (int)Math.Round(_options.Window / UnitSeconds));
        _ringClipped = new double[units];
        _ringChannels = new double[units * _channels];
        _ringStart = new double[units];
        _ringHead = _ringCount = 0;
        _windowClipped = 0;
        _unitFilled = 0;
    }

    /// <summary>Per-channel state: low-pass history and the excursion being followed.</summary>
    private struct Channel
    {
        public float H0, H1, H2, H3, HistoryMax, Previous, Top, EntrySlope;
        public bool InRun, Positive;
        public int Length;
        public long Position, RunStart; // samples seen; where the excursion began
        public long Clipped;            // samples of flattened tops in the current unit

        /// <summary>Takes in at least 5 samples that cannot reach the level: only the filter history moves on.</summary>
        public void Push(ReadOnlySpan<float> samples)
        {
            Position += samples.Length;
            var t = samples[^5..];
            Previous = (t[0] + 4 * t[1] + 6 * t[2] + 4 * t[3] + t[4]) * (1f / 16);
            H0 = t[1]; H1 = t[2]; H2 = t[3]; H3 = t[4];
            HistoryMax = Math.Max(Math.Max(Math.Abs(H0), Math.Abs(H1)), Math.Max(Math.Abs(H2), Math.Abs(H3)));
        }
    }
}
