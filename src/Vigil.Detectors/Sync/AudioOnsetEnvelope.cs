using System.Numerics;
using System.Runtime.InteropServices;
using Vigil.Media;

namespace Vigil.Detectors.Sync;

/// <summary>
/// Audio onset envelope: how much new sound starts in each 5 ms hop. The channels are mixed to mono
/// and box-decimated to ~12 kHz (onsets are broadband; a 1 kHz beep, speech and cuts all survive, and
/// the FFT shrinks to 128 points), then each hop's Hann-windowed spectrum is summed into ~15 log-spaced
/// bands and the rise of each band's level in dB beyond 3 dB (positive spectral flux with a dead zone
/// for a noise bed's wobble) is added up, against the louder of the two previous hops. Levels have a
/// floor at −90 dBFS and 50 dB below the hop's loudest band, so silence and a steady tone give no
/// flux; a running mean of the flux is subtracted so a steady noise bed contributes only its
/// fluctuations. The value lands on the grid at the centre of the newest hop: with a floor in dB the
/// flux jumps as soon as the onset enters a window.
/// </summary>
public sealed class AudioOnsetEnvelope
{
    /// <summary>Seconds per hop.</summary>
    public const double Hop = 0.005;
    private const int TargetRate = 12_000;
    private const float FloorPower = 1e-9f;          // −90 dBFS
    private const float MaskedBelow = 1e-5f;         // band levels count down to 50 dB below the loudest band
    private const float RiseDeadZone = 3f;           // dB: a band must rise more than a noise bed wobbles
    private static readonly float RiseRatio = MathF.Pow(10, RiseDeadZone / 10);
    private const double FloorTimeConstant = 0.25;   // seconds, running mean of flux removed as background
    private const double ClockTolerance = 0.002;     // container timestamp rounding (MKV: 1 ms)
    private const double MaxBridgedJump = 0.020;     // a larger jump is a gap: start the window afresh

    private readonly EnvelopeGrid _grid;
    private int _sampleRate, _channels, _decimation, _hopLength;
    private double _rate;                            // decimated rate
    private RealFft _fft = null!;
    private float[] _window = [], _history = [], _frame = [], _power = [];
    private int[] _bandStart = [];
    private float[] _previousPower = [], _olderPower = [], _bandPower = [];
    private int _historyFill;
    private float _decimationSum;
    private int _decimationFill;
    private bool _hasPrevious;
    private double _background;
    private float _backgroundAlpha;
    private double _clockPts = double.NaN;           // sample clock: time of sample 0 of the current run
    private long _clockSamples;
    private float[] _mono = [];

    public AudioOnsetEnvelope(EnvelopeGrid grid) => _grid = grid;

    /// <summary>Hops analysed so far.</summary>
    public long Hops { get; private set; }

    /// <summary>Media time up to which audio has been analysed.</summary>
    public double Reached { get; private set; } = double.NegativeInfinity;

    /// <summary>Adds one block's onsets to the grid.</summary>
    public void Process(AudioBlock block)
    {
        if (block.SampleCount == 0 || block.SampleRate <= 0) return;
        if (block.SampleRate != _sampleRate || block.Channels != _channels) Configure(block.SampleRate, block.Channels);
        var count = block.SampleCount;
        var drift = double.IsNaN(_clockPts) ? double.PositiveInfinity : block.Pts - (_clockPts + _clockSamples / (double)_sampleRate);
        if (Math.Abs(drift) > ClockTolerance)
        {
            // timestamps left the sample clock: follow them; a real gap or overlap also breaks the window
            if (Math.Abs(drift) > MaxBridgedJump) ResetSignal();
            _clockPts = block.Pts;
            _clockSamples = 0;
        }

        if (_mono.Length < count) _mono = new float[count];
        var mono = _mono.AsSpan(0, count);
        block.Channel(0).CopyTo(mono);
        for (var c = 1; c < _channels; c++) Add(mono, block.Channel(c));

        var scale = 1f / (_channels * _decimation);
        var i = 0;
        // a decimation group left open by the previous block
        while (_decimationFill > 0 && i < count)
        {
            _decimationSum += mono[i++];
            if (++_decimationFill < _decimation) continue;
            Push(_decimationSum * scale, i);
            _decimationSum = 0;
            _decimationFill = 0;
        }
        var d = _decimation;
        for (; i + d <= count; i += d)
        {
            var sum = 0f;
            for (var k = 0; k < d; k++) sum += mono[i + k];
            Push(sum * scale, i + d);
        }
        for (; i < count; i++)
        {
            _decimationSum += mono[i];
            _decimationFill++;
        }
        _clockSamples += count;
        Reached = Math.Max(Reached, _clockPts + _clockSamples / (double)_sampleRate);
    }

    /// <summary>Forgets the signal history (a discontinuity); the grid is the caller's.</summary>
    public void Reset()
    {
        ResetSignal();
        _background = 0;
        _clockPts = double.NaN;
        _clockSamples = 0;
        Reached = double.NegativeInfinity;
    }

    private void ResetSignal()
    {
        _historyFill = 0;
        _decimationFill = 0;
        _decimationSum = 0;
        _hasPrevious = false;
    }

    private static void Add(Span<float> sum, ReadOnlySpan<float> samples)
    {
        var s = MemoryMarshal.Cast<float, Vector<float>>(sum);
        var x = MemoryMarshal.Cast<float, Vector<float>>(samples);
        for (var i = 0; i < s.Length; i++) s[i] += x[i];
        for (var i = s.Length * Vector<float>.Count; i < sum.Length; i++) sum[i] += samples[i];
    }

    /// <summary>One decimated sample, ending at sample <paramref name="endInBlock"/> of the current block.</summary>
    private void Push(float sample, int endInBlock)
    {
        _history[_historyFill++] = sample;
        if (_historyFill < _history.Length) return;
        Analyse(_clockPts + (_clockSamples + endInBlock) / (double)_sampleRate);
        // slide by one hop (a 128-float copy: cheaper than ring indexing in the windowing)
        Array.Copy(_history, _hopLength, _history, 0, _history.Length - _hopLength);
        _historyFill -= _hopLength;
    }

    private void Analyse(double endTime)
    {
        var n = _frame.Length;
        var h = MemoryMarshal.Cast<float, Vector<float>>(_history.AsSpan());
        var w = MemoryMarshal.Cast<float, Vector<float>>(_window.AsSpan());
        var f = MemoryMarshal.Cast<float, Vector<float>>(_frame.AsSpan());
        for (var i = 0; i < f.Length; i++) f[i] = h[i] * w[i];
        for (var i = f.Length * Vector<float>.Count; i < n; i++) _frame[i] = _history[i] * _window[i];
        _fft.PowerSpectrum(_frame, _power);

        var loudest = 0f;
        for (var b = 0; b < _bandPower.Length; b++)
        {
            var sum = 0f;
            for (var k = _bandStart[b]; k < _bandStart[b + 1]; k++) sum += _power[k];
            _bandPower[b] = sum;
            loudest = Math.Max(loudest, sum);
        }
        // bands far below the loudest are masked (and are where a steady tone's window leakage wobbles)
        var floor = Math.Max(FloorPower, loudest * MaskedBelow);
        var flux = 0f;
        for (var b = 0; b < _bandPower.Length; b++)
        {
            var power = Math.Max(_bandPower[b], floor);
            // against the louder of the two previous hops: a noise bed's hop-to-hop wobble mostly cancels;
            // compared as power ratios so the logarithm runs only for bands that did rise
            var reference = Math.Max(_previousPower[b], _olderPower[b]);
            if (_hasPrevious && power > reference * RiseRatio) flux += 10 * MathF.Log10(power / reference) - RiseDeadZone;
            _olderPower[b] = _hasPrevious ? _previousPower[b] : power;
            _previousPower[b] = power;
        }
        Hops++;
        if (!_hasPrevious)
        {
            _hasPrevious = true;
            return;
        }

        // the steady part of the flux (a noise bed) is background, not onsets
        var onset = Math.Max(0, flux - _background);
        _background += _backgroundAlpha * (flux - _background);
        if (onset > 0) _grid.Add(endTime - 0.5 * _hopLength / _rate, (float)onset);
    }

    private void Configure(int sampleRate, int channels)
    {
        _sampleRate = sampleRate;
        _channels = channels;
        _decimation = Math.Max(1, sampleRate / TargetRate);
        _rate = sampleRate / (double)_decimation;
        _hopLength = Math.Max(1, (int)Math.Round(_rate * Hop));
        var n = 16;
        while (n < 2 * _hopLength) n <<= 1;
        _fft = new RealFft(n);
        _window = new float[n];
        for (var i = 0; i < n; i++) _window[i] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * (i + 0.5) / n));
        // a full-scale sine reads ~0 dB in its band: |X|² of a Hann-windowed sine peaks at (A·Σw/2)²
        var gain = 2 / _window.Sum();
        for (var i = 0; i < n; i++) _window[i] *= gain;
        _history = new float[n];
        _frame = new float[n];
        _power = new float[n / 2];
        _bandStart = Bands(n / 2, _rate);
        _bandPower = new float[_bandStart.Length - 1];
        _previousPower = new float[_bandPower.Length];
        _olderPower = new float[_bandPower.Length];
        _backgroundAlpha = (float)(1 - Math.Exp(-Hop / FloorTimeConstant));
        Reset();
    }

    /// <summary>Band edges (bin indices) spaced roughly logarithmically from ~80 Hz to Nyquist, at least one bin wide.</summary>
    private static int[] Bands(int bins, double rate)
    {
        var edges = new List<int>();
        var binHz = rate / 2 / bins;
        var first = Math.Max(1, (int)Math.Round(80 / binHz));
        edges.Add(first);
        var edge = (double)first;
        while (edges[^1] < bins)
        {
            edge = Math.Max(edge * 1.3, edges[^1] + 1);
            edges.Add(Math.Min(bins, (int)Math.Round(edge)));
        }
        return edges.Distinct().ToArray();
    }
}
