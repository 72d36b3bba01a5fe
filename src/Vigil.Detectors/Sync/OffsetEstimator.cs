using System.Numerics;
using System.Runtime.InteropServices;

namespace Vigil.Detectors.Sync;

/// <summary>
/// One window's answer: the offset (audio minus video, seconds; &gt; 0 audio late), how sure, how many
/// video events agreed with an audio event at that offset (of how many each side), the peak's lead over
/// the next candidate, the media times of the first and last agreeing video events, and the window's end.
/// </summary>
public readonly record struct SyncEstimate(
    double Offset,
    double Confidence,
    int PairedEvents,
    int VideoEvents,
    int AudioEvents,
    double PeakRatio,
    double FirstEvent,
    double LastEvent,
    double WindowEnd);

/// <summary>
/// Cross-correlates a window of the video change envelope with the audio onset envelope over
/// ±max-lag and turns the peak into an offset. Trust is earned, not assumed: the window needs at
/// least <c>minEvents</c> video events that each find an audio event at the chosen lag, and a peak
/// that stands <c>minPeakRatio</c> times above the best other candidate lag (a few coincidences, or
/// an echo, give two similar peaks and no answer). A periodic pattern — the line-up flash and beep
/// once a second — gives equal peaks one period apart by construction: when the video or audio events
/// themselves repeat at the rivals' spacing (at least <see cref="MinPeriod"/>), the rivals are one
/// family, the lag of the family nearest zero is taken and the ratio is judged against peaks outside
/// it. Each event is capped at the window's
/// typical event size before correlating, so one huge flash cannot outvote several cuts. The integer
/// lag is refined by a parabola through the peak and its neighbours (sub-cell, sub-frame).
/// Scratch buffers are sized once; an estimate allocates nothing.
/// </summary>
public sealed class OffsetEstimator
{
    /// <summary>Smallest video event, in code values of mean cell change above background.</summary>
    public const float VideoEventMin = 4f;
    /// <summary>Smallest audio event, in summed dB of band-level rise above background.</summary>
    public const float AudioEventMin = 12f;
    private const double PeakExclusion = 0.100;   // other candidate peaks lie at least this far from the best
    private const double PairTolerance = 0.025;   // an audio event this close to video + lag agrees
    private const int EventRadius = 3;            // cells either side an event must dominate
    private const double Lookback = 0.25;         // seconds before an event it must stand out from
    private const float Prominence = 2;
    /// <summary>Shortest repeat a pattern may have for its smallest offset to be taken: at 1 s, offsets up to ±0.5 s resolve.</summary>
    public const double MinPeriod = 0.8;
    private const double PeriodMargin = 0.050;    // an offset this close to half the period could be either way
    private const double PeriodTolerance = 0.040; // events repeat within a frame of the period (29.97 fps on a 1 s grid)
    private const double RepeatShare = 0.8;       // of the events must repeat for a pattern to be periodic

    private readonly int _window, _lag;
    private readonly float[] _video, _audio, _prefix, _correlation;
    private readonly int[] _videoEvents, _audioEvents;
    private readonly float[] _peaks;

    /// <param name="windowSeconds">Video span of one estimate.</param>
    /// <param name="maxLagSeconds">Largest offset searched either way.</param>
    public OffsetEstimator(double windowSeconds, double maxLagSeconds)
    {
        _window = (int)Math.Round(windowSeconds / EnvelopeGrid.Step);
        _lag = (int)Math.Round(maxLagSeconds / EnvelopeGrid.Step);
        _video = new float[_window];
        _audio = new float[_window + 2 * _lag];
        _prefix = new float[_audio.Length + 1];
        _correlation = new float[2 * _lag + 1];
        _videoEvents = new int[_window];
        _audioEvents = new int[_audio.Length];
        _peaks = new float[_audio.Length];
    }

    /// <summary>Cells of video one estimate spans.</summary>
    public int WindowCells => _window;

    /// <summary>Largest lag, in cells.</summary>
    public int LagCells => _lag;

    /// <summary>The correlation of the last estimate by lag (index 0 is −max lag), for diagnostics.</summary>
    public ReadOnlySpan<float> Correlation => _correlation;

    /// <summary>
    /// Estimates the offset for video cells [<paramref name="end"/> − window, end), reading audio
    /// max-lag further either way. Null when the window holds no trustworthy evidence.
    /// </summary>
    public SyncEstimate? Estimate(EnvelopeGrid video, EnvelopeGrid audio, long end, int minEvents, double minPeakRatio)
    {
        var first = end - _window;
        video.CopyTo(first, _video);
        audio.CopyTo(first - _lag, _audio);

        var videoCount = FindEvents(_video, VideoEventMin, _videoEvents);
        if (videoCount < minEvents) return null;
        var audioCount = FindEvents(_audio, AudioEventMin, _audioEvents);
        if (audioCount < minEvents) return null;
        Cap(_video, _videoEvents, videoCount);
        Cap(_audio, _audioEvents, audioCount);

        Correlate();
        var best = -1;
        for (var t = 1; t < _correlation.Length - 1; t++)
            if (best < 0 || _correlation[t] > _correlation[best]) best = t;
        var top = _correlation[best];
        if (!(top > 0)) return null;

        var exclusion = (int)Math.Round(PeakExclusion / EnvelopeGrid.Step);
        var period = PatternPeriod(best, exclusion, (float)(top / minPeakRatio), videoCount, audioCount);
        if (period > 0)
        {
            // a periodic pattern (a line-up flash and beep every second) matches itself one period on:
            // only the offset modulo the period is measurable, and real offsets stay well within half of it
            var chosen = SmallestInFamily(best, period, exclusion);
            if (chosen < 1 || chosen > _correlation.Length - 2 || !(_correlation[chosen] >= top / minPeakRatio)) return null;
            if (Math.Abs(chosen - _lag) > period / 2 - (int)Math.Round(PeriodMargin / EnvelopeGrid.Step)) return null;
            best = chosen;
            top = _correlation[best];
        }
        bool InFamily(int t) => period > 0 && Math.Abs(t - best - period * Math.Round((t - best) / (double)period)) <= exclusion;

        // the best lag at the edge of the search may be a slope toward an offset out of range
        if ((_correlation[0] >= top && !InFamily(0)) || (_correlation[^1] >= top && !InFamily(_correlation.Length - 1))) return null;

        var second = 0f;
        for (var t = 1; t < _correlation.Length - 1; t++)
        {
            if (Math.Abs(t - best) <= exclusion || InFamily(t)) continue;
            if (_correlation[t] >= _correlation[t - 1] && _correlation[t] >= _correlation[t + 1]) second = Math.Max(second, _correlation[t]);
        }
        var ratio = second > 0 ? Math.Min(100, top / second) : 100;

        // sub-cell refinement: vertex of the parabola through the peak and its neighbours
        double y0 = _correlation[best - 1], y1 = top, y2 = _correlation[best + 1];
        var curvature = y0 - 2 * y1 + y2;
        var delta = curvature < 0 ? Math.Clamp(0.5 * (y0 - y2) / curvature, -0.5, 0.5) : 0;
        var lag = best - _lag + delta;

        // events that agree: a video event with an audio event where the lag puts it
        var tolerance = (int)Math.Round(PairTolerance / EnvelopeGrid.Step);
        int paired = 0, firstPaired = -1, lastPaired = -1, a = 0;
        for (var e = 0; e < videoCount; e++)
        {
            var expected = _videoEvents[e] + _lag + (int)Math.Round(lag);
            while (a < audioCount && _audioEvents[a] < expected - tolerance) a++;
            if (a < audioCount && _audioEvents[a] <= expected + tolerance)
            {
                paired++;
                if (firstPaired < 0) firstPaired = _videoEvents[e];
                lastPaired = _videoEvents[e];
            }
        }
        if (paired < minEvents || ratio < minPeakRatio) return null;

        // more agreeing events and a clearer peak both raise confidence; neither alone reaches 1
        var confidence = (1 - 1 / ratio) * (1 - Math.Pow(0.5, paired - minEvents + 1));
        return new SyncEstimate(
            lag * EnvelopeGrid.Step, Math.Clamp(confidence, 0, 1), paired, videoCount, audioCount, ratio,
            (first + firstPaired) * EnvelopeGrid.Step, (first + lastPaired) * EnvelopeGrid.Step, end * EnvelopeGrid.Step);
    }

    /// <summary>
    /// The period in cells when the correlation's rival peaks come from a repeating pattern, else 0: the
    /// nearest rival (a peak beyond the exclusion zone within <paramref name="floor"/> of the best) lies a
    /// period of <see cref="MinPeriod"/> or more away, and the video or the audio events themselves repeat
    /// at that period. Aperiodic content with two candidate offsets keeps its ambiguity (no period).
    /// </summary>
    private int PatternPeriod(int best, int exclusion, float floor, int videoCount, int audioCount)
    {
        var nearest = -1;
        for (var t = 0; t < _correlation.Length; t++)
        {
            if (Math.Abs(t - best) <= exclusion || !(_correlation[t] >= floor) || !IsPeak(t)) continue;
            if (nearest < 0 || Math.Abs(t - best) < Math.Abs(nearest - best)) nearest = t;
        }
        if (nearest < 0) return 0;
        var period = Math.Abs(nearest - best);
        if (period * EnvelopeGrid.Step < MinPeriod) return 0;
        return Repeats(_videoEvents, videoCount, period) || Repeats(_audioEvents, audioCount, period) ? period : 0;
    }

    /// <summary>A local maximum of the correlation (at the ends: higher than the one neighbour).</summary>
    private bool IsPeak(int t) =>
        (t == 0 || _correlation[t] >= _correlation[t - 1]) && (t == _correlation.Length - 1 || _correlation[t] >= _correlation[t + 1]);

    /// <summary>Whether most events (of those with room after them) have another event one period later.</summary>
    private static bool Repeats(int[] events, int count, int period)
    {
        var tolerance = (int)Math.Round(PeriodTolerance / EnvelopeGrid.Step);
        int checkable = 0, matched = 0, j = 0;
        for (var i = 0; i < count; i++)
        {
            var target = events[i] + period;
            if (target > events[count - 1] + tolerance) break;
            checkable++;
            while (j < count && events[j] < target - tolerance) j++;
            if (j < count && events[j] <= target + tolerance) matched++;
        }
        return checkable >= 2 && matched >= RepeatShare * checkable;
    }

    /// <summary>
    /// Of the lags best + k·period, the one nearest zero lag, moved to the highest correlation within the
    /// exclusion zone around it (the pattern's frames jitter by up to a frame).
    /// </summary>
    private int SmallestInFamily(int best, int period, int exclusion)
    {
        var member = best + period * (int)Math.Round((_lag - best) / (double)period);
        var peak = -1;
        for (var t = Math.Max(0, member - exclusion); t <= Math.Min(_correlation.Length - 1, member + exclusion); t++)
            if (peak < 0 || _correlation[t] > _correlation[peak]) peak = t;
        return peak;
    }

    /// <summary>
    /// Cells that are the largest within ±<see cref="EventRadius"/>, at least the threshold, and
    /// <see cref="Prominence"/> times what the envelope reached in the <see cref="Lookback"/> before:
    /// an event must stand out from its own recent past (a noise bed's wobble, a beep's click at its
    /// end, a burst of motion do not).
    /// </summary>
    private static int FindEvents(float[] envelope, float minimum, int[] events)
    {
        double sum = 0;
        foreach (var v in envelope) sum += v;
        // a busy envelope (lots of motion, a dense mix) needs stronger peaks to count as events
        var threshold = (float)Math.Max(minimum, 3 * sum / envelope.Length);
        var lookback = (int)Math.Round(Lookback / EnvelopeGrid.Step);
        var count = 0;
        for (var i = 0; i < envelope.Length; i++)
        {
            var v = envelope[i];
            if (v < threshold) continue;
            var dominant = true;
            for (var j = Math.Max(0, i - EventRadius); j <= Math.Min(envelope.Length - 1, i + EventRadius) && dominant; j++)
                dominant = j < i ? envelope[j] < v : envelope[j] <= v;
            if (!dominant) continue;
            var before = 0f;
            for (var j = Math.Max(0, i - lookback); j < i - EventRadius; j++) before = Math.Max(before, envelope[j]);
            if (v >= Prominence * before) events[count++] = i;
        }
        return count;
    }

    /// <summary>Scales so the median event peak is 1 and clips above it: every event then weighs about the same.</summary>
    private void Cap(float[] envelope, int[] events, int count)
    {
        var peaks = _peaks.AsSpan(0, count);
        for (var i = 0; i < count; i++) peaks[i] = envelope[events[i]];
        peaks.Sort();
        var median = peaks[count / 2];
        var scale = 1 / median;
        for (var i = 0; i < envelope.Length; i++) envelope[i] = Math.Min(1f, envelope[i] * scale);
    }

    /// <summary>
    /// r(τ) = Σ v[i]·(a[i+τ] − mean a over the shifted window). The video envelope is sparse (a value
    /// per picture at most, most of them zero after the background is removed), so each non-zero cell
    /// adds its weighted slice of audio to every lag at once: one SIMD multiply-add over 2·lag+1 floats.
    /// </summary>
    private void Correlate()
    {
        var correlation = _correlation.AsSpan();
        correlation.Clear();
        var lags = correlation.Length;
        var acc = MemoryMarshal.Cast<float, Vector<float>>(correlation);
        var vectorEnd = acc.Length * Vector<float>.Count;
        double videoSum = 0;
        for (var i = 0; i < _video.Length; i++)
        {
            var v = _video[i];
            if (v <= 0) continue;
            videoSum += v;
            var slice = _audio.AsSpan(i, lags);
            var x = MemoryMarshal.Cast<float, Vector<float>>(slice);
            var weight = new Vector<float>(v);
            for (var j = 0; j < acc.Length; j++) acc[j] += weight * x[j];
            for (var t = vectorEnd; t < lags; t++) correlation[t] += v * slice[t];
        }

        // remove what a video envelope of the same total would collect from this audio by chance
        _prefix[0] = 0;
        for (var i = 0; i < _audio.Length; i++) _prefix[i + 1] = _prefix[i] + _audio[i];
        var videoMean = (float)(videoSum / _video.Length);
        for (var t = 0; t < lags; t++) correlation[t] -= videoMean * (_prefix[t + _video.Length] - _prefix[t]);
    }
}
