using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Vigil.Media;

namespace Vigil.Detectors.Audio.Loudness;

/// <summary>What a <see cref="LoudnessMeter"/> measures besides the always-on loudness.</summary>
public sealed record LoudnessMeterOptions
{
    /// <summary>Measure the true peak (the costliest part; a detector that only needs short-term loudness turns it off).</summary>
    public bool TruePeak { get; init; } = true;

    /// <summary>Length of the sliding window for <see cref="LoudnessMeter.WindowedIntegrated"/>, in seconds (0: none).</summary>
    public double WindowSeconds { get; init; } = 600;
}

/// <summary>Loudness at the end of one 100 ms step, in LUFS (−∞ for silence).</summary>
/// <param name="Time">Media time of the end of the step, in seconds.</param>
/// <param name="Momentary">Loudness of the last 400 ms.</param>
/// <param name="ShortTerm">Loudness of the last 3 s.</param>
/// <param name="Steps">Steps since the meter started (or was reconfigured); the 3 s window is full from 30.</param>
public readonly record struct LoudnessStep(double Time, double Momentary, double ShortTerm, long Steps)
{
    /// <summary>The short-term window holds a full 3 s of audio.</summary>
    public bool ShortTermComplete => Steps >= LoudnessMeter.ShortTermSteps;
}

/// <summary>Receives every 100 ms step of a <see cref="LoudnessMeter"/>, synchronously, in media-time order.</summary>
public interface ILoudnessObserver
{
    void OnStep(in LoudnessStep step);
}

/// <summary>Whole-input loudness for a summary: integrated (LUFS), loudness range (LU), true peak (dBTP).</summary>
public readonly record struct LoudnessReading(double IntegratedLufs, double LoudnessRangeLu, double TruePeakDbtp);

/// <summary>
/// A loudness meter to ITU-R BS.1770-4 and EBU Tech 3341 / 3342: K-weighted, channel-weighted mean
/// square in 100 ms steps; momentary (400 ms) and short-term (3 s) loudness every step; integrated
/// loudness over 400 ms gating blocks with 75 % overlap, gated at −70 LUFS and −10 LU; loudness range
/// from the short-term values (gates −70 LUFS and −20 LU, 95th − 10th percentile); true peak; and an
/// integrated loudness over a sliding window for live monitoring. Gating uses histograms, so every
/// update is O(1) and memory is fixed however long the input runs. No allocation per block.
/// </summary>
public sealed class LoudnessMeter
{
    /// <summary>Steps in the momentary (400 ms) window.</summary>
    public const int MomentarySteps = 4;
    /// <summary>Steps in the short-term (3 s) window.</summary>
    public const int ShortTermSteps = 30;

    private readonly LoudnessMeterOptions _options;
    private readonly LoudnessHistogram _integrated = new();
    private readonly LoudnessHistogram _range = new();
    private readonly LoudnessHistogram _window = new();
    private readonly List<ILoudnessObserver> _observers = [];
    private readonly double[] _stepEnergy = new double[ShortTermSteps]; // ring: Σ weight·Σ y² per step
    private readonly int[] _stepSamples = new int[ShortTermSteps];
    private readonly (int Bin, double Energy)[] _windowBlocks;            // ring of the gating blocks in the sliding window
    private int _windowHead, _windowCount;

    private int _sampleRate, _channels;
    private double[] _weights = [];
    private BiquadCoefficients _shelf, _highPass;
    private double[] _state = [];   // per channel: shelf z1, z2, high-pass z1, z2
    private double[] _sumSquares = [];
    private TruePeakMeter? _truePeak;
    private double _previousPeak;   // true peak before the last reconfiguration
    private int _stepPhase;         // 0..9: which 100 ms step of the second (steps of a non-multiple-of-10 rate differ by one sample)
    private int _stepLength, _stepFilled;
    private long _steps;
    private double _momentary = double.NegativeInfinity, _shortTerm = double.NegativeInfinity;

    public LoudnessMeter(int sampleRate, int channels, LoudnessMeterOptions? options = null)
    {
        _options = options ?? new LoudnessMeterOptions();
        if (!(_options.WindowSeconds >= 0)) throw new ArgumentException("window must be ≥ 0 s", nameof(options));
        _windowBlocks = new (int, double)[Math.Max(1, (int)Math.Round(_options.WindowSeconds * 10))];
        Configure(sampleRate, channels);
    }

    public int SampleRate => _sampleRate;
    public int Channels => _channels;

    /// <summary>Loudness of the last 400 ms, LUFS.</summary>
    public double Momentary => _momentary;

    /// <summary>Loudness of the last 3 s, LUFS.</summary>
    public double ShortTerm => _shortTerm;

    /// <summary>Gated integrated loudness since the start, LUFS (−∞ while nothing is above the absolute gate).</summary>
    public double Integrated => _integrated.GatedLoudness();

    /// <summary>Loudness range since the start, LU (Tech 3342).</summary>
    public double LoudnessRange => _range.LoudnessRange();

    /// <summary>Gated integrated loudness of the last <see cref="LoudnessMeterOptions.WindowSeconds"/>, LUFS.</summary>
    public double WindowedIntegrated => _window.GatedLoudness();

    /// <summary>Highest true peak since the start, dBTP (NaN when true peak is off).</summary>
    public double TruePeakDb => _truePeak is null ? double.NaN : 20 * Math.Log10(Math.Max(_truePeak.Peak, _previousPeak));

    /// <summary>Completed 100 ms steps since the start or the last reconfiguration.</summary>
    public long Steps => _steps;

    /// <summary>The summary figures.</summary>
    public LoudnessReading Reading => new(Integrated, LoudnessRange, TruePeakDb);

    /// <summary>Calls <paramref name="observer"/> at the end of every 100 ms step.</summary>
    public void AddObserver(ILoudnessObserver observer) => _observers.Add(observer);

    /// <summary>
    /// Feeds one block. A block in another format (sample rate, channel count) restarts the filters and
    /// windows but keeps the integrated, range and true-peak history.
    /// </summary>
    public void Process(AudioBlock block)
    {
        if (block.SampleRate != _sampleRate || block.Channels != _channels) Configure(block.SampleRate, block.Channels);
        var n = block.SampleCount;
        if (_truePeak is { } truePeak)
            for (var c = 0; c < _channels; c++) truePeak.Process(c, block.Channel(c));

        var offset = 0;
        while (offset < n)
        {
            var take = Math.Min(n - offset, _stepLength - _stepFilled);
            var c = 0;
            for (; c + 1 < _channels; c += 2)
                FilterPair(block.Channel(c).Slice(offset, take), block.Channel(c + 1).Slice(offset, take), _state.AsSpan(c * 4, 8), ref _sumSquares[c], ref _sumSquares[c + 1]);
            if (c < _channels)
                Filter(block.Channel(c).Slice(offset, take), _state.AsSpan(c * 4, 4), ref _sumSquares[c]);
            _stepFilled += take;
            offset += take;
            if (_stepFilled == _stepLength) CompleteStep(block.Pts + offset / (double)_sampleRate);
        }
        // flush decayed filter state to zero so a long silence never runs on denormals
        for (var i = 0; i < _state.Length; i++)
            if (Math.Abs(_state[i]) < 1e-30) _state[i] = 0;
    }

    private void CompleteStep(double time)
    {
        double energy = 0;
        for (var c = 0; c < _channels; c++)
        {
            energy += _weights[c] * _sumSquares[c];
            _sumSquares[c] = 0;
        }
        var slot = (int)(_steps % ShortTermSteps);
        _stepEnergy[slot] = energy;
        _stepSamples[slot] = _stepLength;
        _steps++;
        _stepFilled = 0;
        _stepPhase = (_stepPhase + 1) % 10;
        _stepLength = StepLength(_sampleRate, _stepPhase);

        var momentary = WindowEnergy(MomentarySteps);
        var shortTerm = WindowEnergy(ShortTermSteps);
        _momentary = LoudnessHistogram.Loudness(momentary);
        _shortTerm = LoudnessHistogram.Loudness(shortTerm);
        if (_steps >= MomentarySteps)
        {
            // a gating block: 400 ms, a new one every 100 ms (75 % overlap)
            _integrated.Add(momentary);
            if (_options.WindowSeconds > 0) AddToWindow(momentary);
        }
        if (_steps >= ShortTermSteps) _range.Add(shortTerm);

        var step = new LoudnessStep(time, _momentary, _shortTerm, _steps);
        foreach (var observer in _observers) observer.OnStep(step);
    }

    private double WindowEnergy(int steps)
    {
        var count = (int)Math.Min(steps, _steps);
        double energy = 0;
        long samples = 0;
        for (var i = 1; i <= count; i++)
        {
            var slot = (int)((_steps - i) % ShortTermSteps);
            energy += _stepEnergy[slot];
            samples += _stepSamples[slot];
        }
        return samples == 0 ? 0 : energy / samples;
    }

    private void AddToWindow(double energy)
    {
        if (_windowCount == _windowBlocks.Length)
        {
            var (oldBin, oldEnergy) = _windowBlocks[_windowHead];
            _window.Remove(oldBin, oldEnergy);
            _windowCount--;
        }
        _windowBlocks[_windowHead] = (_window.Add(energy), energy);
        _windowHead = (_windowHead + 1) % _windowBlocks.Length;
        _windowCount++;
    }

    private void Configure(int sampleRate, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 10);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (_truePeak is { } old) _previousPeak = Math.Max(_previousPeak, old.Peak);
        _sampleRate = sampleRate;
        _channels = channels;
        _weights = KWeighting.ChannelWeights(channels);
        _shelf = KWeighting.Shelf(sampleRate);
        _highPass = KWeighting.HighPass(sampleRate);
        _state = new double[channels * 4 + 4]; // +4: FilterPair reads 8 from any pair start
        _sumSquares = new double[channels];
        _truePeak = _options.TruePeak ? new TruePeakMeter(sampleRate, channels) : null;
        _steps = 0;
        _stepPhase = 0;
        _stepFilled = 0;
        _stepLength = StepLength(sampleRate, 0);
    }

    /// <summary>Samples in step <paramref name="phase"/> (0..9) of a second: 100 ms rounded so ten steps make exactly one second.</summary>
    private static int StepLength(int sampleRate, int phase) => (phase + 1) * sampleRate / 10 - phase * sampleRate / 10;

    /// <summary>K-weights two channels at once (their recursions are independent, so the two lanes hide each other's latency).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FilterPair(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<double> state, ref double sumLeft, ref double sumRight)
    {
        var s = _shelf;
        var h = _highPass;
        var sb0 = Vector128.Create(s.B0); var sb1 = Vector128.Create(s.B1); var sb2 = Vector128.Create(s.B2);
        var sa1 = Vector128.Create(-s.A1); var sa2 = Vector128.Create(-s.A2);
        var ha1 = Vector128.Create(-h.A1); var ha2 = Vector128.Create(-h.A2);
        var hb0 = Vector128.Create(h.B0); var hb1 = Vector128.Create(h.B1); var hb2 = Vector128.Create(h.B2);
        var z1 = Vector128.Create(state[0], state[4]);
        var z2 = Vector128.Create(state[1], state[5]);
        var w1 = Vector128.Create(state[2], state[6]);
        var w2 = Vector128.Create(state[3], state[7]);
        var acc = Vector128<double>.Zero;
        for (var i = 0; i < left.Length; i++)
        {
            var x = Vector128.Create((double)left[i], right[i]);
            // shelf, transposed direct form II
            var y = Vector128.FusedMultiplyAdd(sb0, x, z1);
            z1 = Vector128.FusedMultiplyAdd(sa1, y, Vector128.FusedMultiplyAdd(sb1, x, z2));
            z2 = Vector128.FusedMultiplyAdd(sa2, y, sb2 * x);
            // high-pass
            var v = Vector128.FusedMultiplyAdd(hb0, y, w1);
            w1 = Vector128.FusedMultiplyAdd(ha1, v, Vector128.FusedMultiplyAdd(hb1, y, w2));
            w2 = Vector128.FusedMultiplyAdd(ha2, v, hb2 * y);
            acc = Vector128.FusedMultiplyAdd(v, v, acc);
        }
        state[0] = z1[0]; state[4] = z1[1];
        state[1] = z2[0]; state[5] = z2[1];
        state[2] = w1[0]; state[6] = w1[1];
        state[3] = w2[0]; state[7] = w2[1];
        sumLeft += acc[0];
        sumRight += acc[1];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Filter(ReadOnlySpan<float> samples, Span<double> state, ref double sum)
    {
        var s = _shelf;
        var h = _highPass;
        double z1 = state[0], z2 = state[1], w1 = state[2], w2 = state[3], acc = 0;
        foreach (var sample in samples)
        {
            double x = sample;
            var y = s.B0 * x + z1;
            z1 = s.B1 * x - s.A1 * y + z2;
            z2 = s.B2 * x - s.A2 * y;
            var v = h.B0 * y + w1;
            w1 = h.B1 * y - h.A1 * v + w2;
            w2 = h.B2 * y - h.A2 * v;
            acc += v * v;
        }
        state[0] = z1; state[1] = z2; state[2] = w1; state[3] = w2;
        sum += acc;
    }
}
