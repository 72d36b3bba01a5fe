using Vigil.Media;

namespace Vigil.Detectors.Audio;

/// <summary>
/// <c>audio.silence</c>: every channel below the threshold for at least the minimum duration; or one
/// channel dead while the others play (reported with <c>details.channel</c>; silencedetect misses it).
/// Levels are RMS over 10 ms blocks rather than silencedetect's per-sample peak, and a click shorter
/// than <see cref="SilenceOptions.MaxClick"/> does not end a silence (a single click resets silencedetect).
/// </summary>
public sealed class SilenceDetector : IAudioDetector
{
    public const string KindName = "audio.silence";
    private const double BlockSeconds = 0.010;

    private readonly SilenceOptions _options;
    private readonly IDefectSink _sink;
    private readonly double _thresholdPower; // mean square at the threshold
    private IntervalTracker _all = null!;
    private IntervalTracker[] _perChannel = [];
    private double[] _sumSquares = [];
    private bool[] _silent = [];
    private int _channels, _sampleRate, _blockLength, _filled;
    private double _blockStart = double.NaN;

    public SilenceDetector(SilenceOptions options, IDefectSink sink)
    {
        _options = options;
        _sink = sink;
        _thresholdPower = Math.Pow(10, options.ThresholdDb / 10);
    }

    public string Kind => KindName;

    public void Process(AudioBlock block)
    {
        if (block.Channels != _channels || block.SampleRate != _sampleRate) Configure(block);

        var offset = 0;
        while (offset < block.SampleCount)
        {
            if (_filled == 0) _blockStart = block.Pts + offset / (double)_sampleRate;
            var take = Math.Min(_blockLength - _filled, block.SampleCount - offset);
            for (var c = 0; c < _channels; c++)
                _sumSquares[c] += SumOfSquares(block.Channel(c).Slice(offset, take));
            _filled += take;
            offset += take;
            if (_filled == _blockLength) CompleteBlock();
        }
    }

    public void Tick(double now)
    {
        _all?.Tick(now);
        foreach (var tracker in _perChannel) tracker.Tick(now);
    }

    /// <summary>
    /// The partial 10 ms block cannot straddle a break in the audio. A silence bridges a hole of up to
    /// <see cref="Continuity.MaxHole"/> (nothing was heard there either), but not a jump or a new codec.
    /// </summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track != MediaTrack.Audio) return;
        _filled = 0;
        if (discontinuity.Cause == DiscontinuityCause.Hole && discontinuity.Missing <= Continuity.MaxHole) return;
        _all?.Break();
        foreach (var tracker in _perChannel) tracker.Break();
    }

    public void Flush(double endOfInput, string closedBy) => Close(closedBy);

    private void Close(string? closedBy = null)
    {
        _all?.Close(closedBy: closedBy);
        foreach (var tracker in _perChannel) tracker.Close(closedBy: closedBy);
    }

    private void CompleteBlock()
    {
        var allSilent = true;
        for (var c = 0; c < _channels; c++)
        {
            _silent[c] = _sumSquares[c] / _blockLength < _thresholdPower;
            allSilent &= _silent[c];
            _sumSquares[c] = 0;
        }
        var start = _blockStart;
        var end = start + _blockLength / (double)_sampleRate;
        _all.Update(allSilent, start, end);
        if (_channels > 1)
            for (var c = 0; c < _channels; c++)
                _perChannel[c].Update(_silent[c] && !allSilent, start, end);
        _filled = 0;
    }

    private void Configure(AudioBlock block)
    {
        Close(); // the format changed: what was open ends with the old format
        _channels = block.Channels;
        _sampleRate = block.SampleRate;
        _blockLength = Math.Max(1, (int)Math.Round(_sampleRate * BlockSeconds));
        _sumSquares = new double[_channels];
        _silent = new bool[_channels];
        _filled = 0;
        _all = new IntervalTracker(KindName, _options.MinDuration, _sink, bridge: _options.MaxClick);
        _perChannel = new IntervalTracker[_channels];
        for (var c = 0; c < _channels; c++)
        {
            var channel = c;
            _perChannel[c] = new IntervalTracker(KindName, _options.MinDuration, _sink, bridge: _options.MaxClick)
            {
                Details = () => new Dictionary<string, double> { ["channel"] = channel },
            };
        }
    }

    private static double SumOfSquares(ReadOnlySpan<float> samples)
    {
        var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(samples);
        var acc = System.Numerics.Vector<float>.Zero;
        foreach (var v in vectors) acc += v * v;
        double sum = System.Numerics.Vector.Sum(acc);
        for (var i = vectors.Length * System.Numerics.Vector<float>.Count; i < samples.Length; i++) sum += samples[i] * samples[i];
        return sum;
    }
}
