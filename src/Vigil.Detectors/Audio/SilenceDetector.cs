using Vigil.Media;

namespace Vigil.Detectors.Audio;

/// <summary>
/// <c>audio.silence</c>: every channel below the threshold for at least the minimum duration; or one
/// channel dead while the others play (reported with <c>details.channel</c>; silencedetect misses it).
/// Levels are RMS over 10 ms blocks rather than silencedetect's per-sample peak, and a click shorter
/// than <see cref="SilenceOptions.MaxClick"/> does not end a silence (a single click resets silencedetect).
/// <para>
/// Channels are judged by their role in the layout (<see cref="AudioBlock.Roles"/>): an LFE carries only
/// effects and is silent through most programmes, so it is never reported dead unless
/// <see cref="SilenceOptions.IncludeLfe"/>; surrounds go quiet in every dialogue scene (and stay silent when
/// a stereo programme is carried in 5.1), so only with <see cref="SilenceOptions.IncludeSurrounds"/>. A
/// channel not judged takes no part in "every channel silent" either; the front channels (left, right,
/// centre: the dialogue) always do.
/// </para>
/// </summary>
public sealed class SilenceDetector : IAudioDetector
{
    public const string KindName = "audio.silence";

    private readonly SilenceOptions _options;
    private readonly IDefectSink _sink;
    private readonly double _thresholdPower; // mean square at the threshold
    private IntervalTracker _all = null!;
    private IntervalTracker[] _perChannel = [];  // one per judged channel, when two or more are judged
    private int[] _perChannelIndex = [];         // the channel each of them follows
    private readonly AudioUnits _units = new();
    private double[] _sumSquares = [];
    private bool[] _silent = [];
    private bool[] _judged = [];                // per channel: its silence is judged (by role)
    private IReadOnlyList<ChannelRole> _roles = [];

    public SilenceDetector(SilenceOptions options, IDefectSink sink)
    {
        _options = options;
        _sink = sink;
        _thresholdPower = Math.Pow(10, options.ThresholdDb / 10);
    }

    public string Kind => KindName;

    public void Process(AudioBlock block)
    {
        if (!_units.Fits(block) || !ReferenceEquals(block.Roles, _roles) && !block.Roles.SequenceEqual(_roles)) Configure(block.Roles);
        foreach (var piece in _units.Split(block))
        {
            for (var c = 0; c < _units.Channels; c++)
                _sumSquares[c] += SumOfSquares(block.Channel(c).Slice(piece.Offset, piece.Count));
            if (piece.Completes) CompleteUnit(piece.UnitStart);
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
        _units.Reset();
        Array.Clear(_sumSquares);
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

    private void CompleteUnit(double start)
    {
        var channels = _units.Channels;
        var allSilent = true;
        for (var c = 0; c < channels; c++)
        {
            _silent[c] = _sumSquares[c] / _units.Length < _thresholdPower;
            if (_judged[c]) allSilent &= _silent[c];
            _sumSquares[c] = 0;
        }
        var end = start + _units.Seconds;
        _all.Update(allSilent, start, end);
        for (var i = 0; i < _perChannel.Length; i++)
            _perChannel[i].Update(_silent[_perChannelIndex[i]] && !allSilent, start, end);
    }

    private void Configure(IReadOnlyList<ChannelRole> roles)
    {
        Close(); // the format changed: what was open ends with the old format
        var channels = _units.Channels;
        _roles = roles;
        _sumSquares = new double[channels];
        _silent = new bool[channels];
        _judged = new bool[channels];
        for (var c = 0; c < channels; c++)
        {
            var role = c < roles.Count ? roles[c] : ChannelRole.Unknown;
            _judged[c] = role.IsLowFrequency() ? _options.IncludeLfe : !role.IsSurround() || _options.IncludeSurrounds;
        }
        if (!_judged.Contains(true)) Array.Fill(_judged, true); // e.g. an LFE on its own: judge what there is
        _all = new IntervalTracker(KindName, _options.MinDuration, _sink, bridge: _options.MaxClick);
        // one dead channel while others play: only among two or more judged channels
        var judged = Enumerable.Range(0, channels).Where(c => _judged[c]).ToArray();
        _perChannelIndex = judged.Length > 1 ? judged : [];
        _perChannel = _perChannelIndex.Select(channel => new IntervalTracker(KindName, _options.MinDuration, _sink, bridge: _options.MaxClick)
        {
            Details = () => new Dictionary<string, double> { [DetailNames.Channel] = channel },
        }).ToArray();
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
