using Vigil.Detectors.Audio.Loudness;

namespace Vigil.Detectors.Audio;

/// <summary>
/// <c>audio.loudness</c>: EBU R128 short-term loudness (3 s window, every 100 ms) outside target ±
/// tolerance for at least the minimum duration, reported with <c>details.lufs</c> (the median
/// short-term loudness over the defect, so the 3 s ramps into and out of it do not bias it).
/// Judged only once the 3 s window is full; silence (below the −70 LUFS absolute gate of BS.1770)
/// is left to <c>audio.silence</c>. Presets: EBU R128 (−23 ± 5) and ATSC A/85 (−24 ± 2).
/// It reads the steps of the meter the pipeline runs for its summary, so K-weighting runs once per stream.
/// </summary>
public sealed class LoudnessDetector : ILoudnessDetector
{
    public const string KindName = "audio.loudness";
    private const double Bridge = 0.5; // a dip back into range shorter than this does not split a defect

    private readonly double _low, _high, _tolerance;
    private readonly IntervalTracker _tracker;
    private readonly LoudnessHistogram _defectLoudness = new(); // short-term values of the current defect

    public LoudnessDetector(LoudnessOptions options, IDefectSink sink)
    {
        _tolerance = options.EffectiveTolerance;
        _low = options.EffectiveTarget - _tolerance;
        _high = options.EffectiveTarget + _tolerance;
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink, bridge: Bridge)
        {
            Details = () => new Dictionary<string, double>
            {
                ["lufs"] = Math.Round(_defectLoudness.Percentile(0.5), 2),
            },
        };
    }

    public string Kind => KindName;

    public void OnStep(in LoudnessStep step)
    {
        var lufs = step.ShortTerm;
        if (!step.ShortTermComplete || !(lufs > LoudnessHistogram.AbsoluteGate))
        {
            _tracker.Update(false, step.Time - 0.1, step.Time);
            return;
        }
        var outside = lufs < _low || lufs > _high;
        if (outside && !_tracker.IsOpen) _defectLoudness.Clear();
        if (outside) _defectLoudness.Add(LoudnessHistogram.Energy(lufs));
        // confidence grows from 0.5 at the edge of the band to 1 at twice the tolerance away from the target
        var beyond = lufs < _low ? _low - lufs : lufs - _high;
        _tracker.Update(outside, step.Time - 0.1, step.Time, Math.Clamp(0.5 + 0.5 * beyond / _tolerance, 0.5, 1));
    }

    public void Tick(double now) => _tracker.Tick(now);

    /// <summary>As silence: a hole of up to <see cref="Continuity.MaxHole"/> is bridged, a jump or a new codec is not.</summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track != MediaTrack.Audio) return;
        if (discontinuity.Cause == DiscontinuityCause.Hole && discontinuity.Missing <= Continuity.MaxHole) return;
        _tracker.Break();
    }

    public void Flush(double endOfInput, string closedBy) => _tracker.Close(closedBy: closedBy);
}
