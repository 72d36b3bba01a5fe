using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Service.Live;

/// <summary>
/// Audio meters of one stream for the dashboard, one reading per second of stream time: short-term
/// loudness (EBU R128, 3 s) and the loudest momentary loudness of the second, the true peak of the
/// second, and each channel's sample peak and RMS level. The last hour of short-term loudness and true
/// peak is kept in a fixed ring (one slot per second: memory is the same after a year), so the plots
/// need no storage. Fed from the analysis thread; read from any.
/// </summary>
public sealed class LiveMeters : ILoudnessObserver
{
    /// <summary>Seconds of loudness history kept.</summary>
    public const int HistorySeconds = 3600;

    private readonly Lock _gate = new();
    private readonly long[] _slotSecond = new long[HistorySeconds];
    private readonly float[] _slotShortTerm = new float[HistorySeconds];
    private readonly float[] _slotTruePeak = new float[HistorySeconds];
    private MeterReading? _latest;

    // the analysis thread's state for the second being measured
    private LoudnessMeter? _loudness;
    private TruePeakMeter? _truePeak;
    private int _rate, _channels;
    private long _second = long.MinValue;
    private double _momentaryMax = double.NegativeInfinity, _shortTerm = double.NegativeInfinity;
    private double[] _peak = [], _sumSquares = [];
    private long _samples;

    private readonly double _epoch;

    /// <param name="epoch">Unix time of the stream's time 0 (<c>StreamConfig.Epoch</c>): readings carry wall-clock time.</param>
    public LiveMeters(double epoch)
    {
        _epoch = epoch;
        Array.Fill(_slotSecond, long.MinValue);
    }

    /// <summary>The reading of the last complete second; null before one (or for a stream without audio).</summary>
    public MeterReading? Latest
    {
        get { lock (_gate) return _latest; }
    }

    /// <summary>A new connection: its meters start from scratch (its format may differ); the history stays.</summary>
    public void BeginConnection()
    {
        _loudness = null;
        _truePeak = null;
        _second = long.MinValue;
    }

    /// <summary>Measures one block (analysis thread); <paramref name="streamTime"/> is the block's start on the stream's clock.</summary>
    public void Offer(AudioBlock block, double streamTime)
    {
        if (block.SampleCount == 0) return;
        if (_loudness is null || block.SampleRate != _rate || block.Channels != _channels) Configure(block.SampleRate, block.Channels);
        var second = (long)Math.Floor(streamTime);
        if (second != _second)
        {
            if (_second != long.MinValue && _samples > 0) Complete(_second);
            StartSecond(second);
        }
        for (var c = 0; c < _channels; c++)
        {
            var samples = block.Channel(c);
            double peak = _peak[c], sum = 0;
            foreach (var s in samples)
            {
                var a = Math.Abs(s);
                if (a > peak) peak = a;
                sum += s * s;
            }
            _peak[c] = peak;
            _sumSquares[c] += sum;
            _truePeak!.Process(c, samples);
        }
        _samples += block.SampleCount;
        _loudness!.Process(block);
    }

    /// <summary>Each 100 ms loudness step of the stream's own meter.</summary>
    public void OnStep(in LoudnessStep step)
    {
        if (step.Steps >= LoudnessMeter.MomentarySteps && step.Momentary > _momentaryMax) _momentaryMax = step.Momentary;
        if (step.ShortTermComplete) _shortTerm = step.ShortTerm;
    }

    /// <summary>Short-term loudness and true peak per second over the last <paramref name="seconds"/> seconds of stream time up to <paramref name="until"/>.</summary>
    public LoudnessHistory History(double until, int seconds)
    {
        seconds = Math.Clamp(seconds, 1, HistorySeconds);
        var last = (long)Math.Floor(until) - 1;
        var first = last - seconds + 1;
        var shortTerm = new double?[seconds];
        var truePeak = new double?[seconds];
        lock (_gate)
        {
            for (var s = first; s <= last; s++)
            {
                var slot = Slot(s);
                if (_slotSecond[slot] != s) continue;
                shortTerm[s - first] = Finite(_slotShortTerm[slot]);
                truePeak[s - first] = Finite(_slotTruePeak[slot]);
            }
        }
        return new LoudnessHistory(Wall(first), 1, shortTerm, truePeak);
    }

    private void Configure(int rate, int channels)
    {
        _rate = rate;
        _channels = channels;
        _loudness = new LoudnessMeter(rate, channels, new LoudnessMeterOptions { TruePeak = false, WindowSeconds = 0 });
        _loudness.AddObserver(this);
        _truePeak = new TruePeakMeter(rate, channels);
        _peak = new double[channels];
        _sumSquares = new double[channels];
        _second = long.MinValue;
        _shortTerm = double.NegativeInfinity;
    }

    private void StartSecond(long second)
    {
        _second = second;
        _momentaryMax = double.NegativeInfinity;
        Array.Clear(_peak);
        Array.Clear(_sumSquares);
        _samples = 0;
        _truePeak!.ResetPeak();
    }

    private void Complete(long second)
    {
        var channels = new ChannelLevel[_channels];
        for (var c = 0; c < _channels; c++)
            channels[c] = new ChannelLevel(Round(Db(_peak[c])), Round(Db(Math.Sqrt(_sumSquares[c] / _samples))));
        var truePeak = Db(_truePeak!.Peak);
        var reading = new MeterReading(Wall(second), Round(_momentaryMax), Round(_shortTerm), Round(truePeak), channels);
        var slot = Slot(second);
        lock (_gate)
        {
            _latest = reading;
            _slotSecond[slot] = second;
            _slotShortTerm[slot] = (float)_shortTerm;
            _slotTruePeak[slot] = (float)truePeak;
        }
    }

    private static int Slot(long second) => (int)(((second % HistorySeconds) + HistorySeconds) % HistorySeconds);

    private DateTimeOffset Wall(long second) => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round((_epoch + second) * 1000));

    private static double Db(double linear) => 20 * Math.Log10(linear);

    /// <summary>Levels to 0.1 dB; silence (−∞) and anything below −120 become null in JSON.</summary>
    private static double? Round(double db) => db > -120 ? Math.Round(db, 1) : null;

    private static double? Finite(float db) => db > -120 ? Math.Round(db, 1) : null;
}

/// <summary>The meters over one second (<paramref name="Time"/>: its start, wall clock).</summary>
/// <param name="Momentary">Loudest momentary loudness (400 ms) in the second, LUFS.</param>
/// <param name="ShortTerm">Short-term loudness (3 s) at the end of the second, LUFS; null until 3 s were heard, or for silence.</param>
/// <param name="TruePeak">True peak of the second, dBTP.</param>
/// <param name="Channels">Each channel's sample peak and RMS level over the second, dBFS.</param>
public sealed record MeterReading(DateTimeOffset Time, double? Momentary, double? ShortTerm, double? TruePeak, IReadOnlyList<ChannelLevel> Channels);

/// <summary>One channel's level over a second, dBFS (null: digital silence).</summary>
public sealed record ChannelLevel(double? Peak, double? Rms);

/// <summary>Loudness per <paramref name="Step"/> seconds from <paramref name="Start"/> (wall clock) on; null where nothing was measured.</summary>
public sealed record LoudnessHistory(DateTimeOffset Start, double Step, IReadOnlyList<double?> ShortTerm, IReadOnlyList<double?> TruePeak);
