namespace Vigil.Detectors.Sync;

/// <summary>
/// Timestamp-level sync: how far the audio timestamps have drifted from the audio's own sample clock
/// (samples ÷ rate, exact) over a stretch in which both tracks ran continuously, with the video's
/// timestamps as the reference timeline. <see cref="Skew"/> &gt; 0: the audio timestamps ran ahead of its
/// samples, so the sound is presented late.
/// <para>
/// Only a slow, sustained drift inside one continuous stretch counts. A jump on either track (a gap or
/// overlap beyond container rounding, a frame gap, time going backwards), a corrupt packet, a decode error
/// or a codec change ends the stretch (<see cref="Break"/>) and the next one starts from zero drift. So
/// none of these is taken for a sync error: Matroska's 1 ms rounding (30 fps frames alternate 33/34 ms;
/// audio packets wobble ±0.5 ms around the sample clock but never drift), Opus pre-skip (a short first
/// block: a jump at the start), lost audio packets or a burst of garbage (timestamps jump on both tracks,
/// by amounts that differ when the video waits for its next key frame). A shifted track and lost media
/// look the same in timestamps; only the content can tell them apart.
/// </para>
/// </summary>
public sealed class TimestampSkew
{
    private const double AudioTolerance = 0.002;   // container rounding (MKV: 1 ms) between consecutive blocks
    private const double FrameTolerance = 0.5;     // of a frame: a video step this far from one frame is a jump

    private double _audioAnchor = double.NaN;      // pts of the stretch's first audio sample
    private long _audioSamples;                    // samples since the anchor
    private int _sampleRate;
    private double _audioEnd = double.NaN, _videoLast = double.NaN, _videoEnd = double.NaN;
    private double _stretchStart = double.NaN;
    private double _audioFirst = double.NaN, _videoFirst = double.NaN;

    /// <summary>Audio timestamp drift against its sample clock in the current stretch, seconds (&gt; 0: audio late).</summary>
    public double Skew { get; private set; }

    /// <summary>Seconds both tracks have run continuously since the stretch began (0 until both are seen).</summary>
    public double ContinuousSeconds =>
        double.IsNaN(_stretchStart) || double.IsNaN(_audioEnd) || double.IsNaN(_videoEnd) ? 0 : Math.Min(_audioEnd, _videoEnd) - _stretchStart;

    /// <summary>Counts the stretches: it changes whenever continuity breaks.</summary>
    public int Stretch { get; private set; }

    /// <summary>First audio timestamp minus first video timestamp, seconds; NaN until both are seen.</summary>
    public double StartOffset => _audioFirst - _videoFirst;

    /// <summary>Timestamp jumps seen on either track.</summary>
    public int Jumps { get; private set; }

    /// <summary>An audio block of <paramref name="samples"/> samples at <paramref name="sampleRate"/> Hz starting at <paramref name="pts"/>.</summary>
    public void Audio(double pts, int samples, int sampleRate)
    {
        if (samples <= 0 || sampleRate <= 0) return;
        if (double.IsNaN(_audioFirst)) _audioFirst = pts;
        if (!double.IsNaN(_audioEnd) && (Math.Abs(pts - _audioEnd) > AudioTolerance || sampleRate != _sampleRate))
        {
            Jumps++;
            Break(pts);
        }
        if (double.IsNaN(_audioAnchor))
        {
            _audioAnchor = pts;
            _audioSamples = 0;
            _sampleRate = sampleRate;
        }
        if (double.IsNaN(_stretchStart)) _stretchStart = pts;
        Skew = pts - (_audioAnchor + _audioSamples / (double)_sampleRate);
        _audioSamples += samples;
        _audioEnd = pts + samples / (double)sampleRate;
    }

    /// <summary>A video frame at <paramref name="pts"/> lasting <paramref name="duration"/> seconds.</summary>
    public void Video(double pts, double duration)
    {
        if (double.IsNaN(_videoFirst)) _videoFirst = pts;
        if (!double.IsNaN(_videoLast))
        {
            var frame = duration > 0 ? duration : _videoEnd - _videoLast;
            var step = pts - _videoLast;
            if (!(frame > 0) || Math.Abs(step - frame) > FrameTolerance * frame)
            {
                Jumps++;
                Break(pts);
            }
        }
        if (double.IsNaN(_stretchStart)) _stretchStart = pts;
        _videoLast = pts;
        _videoEnd = pts + Math.Max(0, duration);
    }

    /// <summary>
    /// Continuity broke at media time <paramref name="at"/> (a jump, a corrupt packet, a decode error; NaN:
    /// where the tracks have reached): the next stretch starts there, from zero drift.
    /// </summary>
    public void Break(double at = double.NaN)
    {
        Stretch++;
        Skew = 0;
        _audioAnchor = double.NaN;
        _stretchStart = !double.IsNaN(at) ? at : Math.Max(Reached(_audioEnd), Reached(_videoEnd));
        if (double.IsInfinity(_stretchStart)) _stretchStart = double.NaN;
    }

    /// <summary>Forgets the timelines (time went backwards): a new stretch starts with the next timestamps.</summary>
    public void Rebase()
    {
        Break();
        _audioEnd = _videoLast = _videoEnd = _stretchStart = double.NaN;
    }

    private static double Reached(double end) => double.IsNaN(end) ? double.NegativeInfinity : end;
}
