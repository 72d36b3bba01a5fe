namespace Vigil.Detectors.Sync;

/// <summary>
/// Timestamp-level sync: how far the container's audio and video timelines have moved apart since the
/// start, measured against each track's own content clock. Audio has an exact one (samples ÷ rate), so
/// a gap, overlap or drift of the audio timestamps against it shifts the audio track. Video's clock is
/// frames × duration; a forward jump by a whole number of frames is taken as dropped frames (content
/// missing — a decoder waiting for the next key frame drops up to a GOP — sync unaffected), anything
/// else shifts the video track. A jump that both tracks make within <see cref="MatchWindow"/> and of
/// about the same size (a live discontinuity, a splice) is neither: the pair cancels.
/// <see cref="Skew"/> &gt; 0 means the audio timestamps moved later relative to the video's: audio late.
/// The tracks' start offset (first audio minus first video timestamp) is kept apart: a live input
/// joined mid-stream starts video at a key frame, so the start alone proves nothing.
/// </summary>
public sealed class TimestampSkew
{
    private const double AudioTolerance = 0.002;   // container rounding (MKV: 1 ms)
    private const double DropTolerance = 0.2;      // of a frame: a jump this close to whole frames is a drop
    private const double MatchWindow = 2.0;        // seconds apart two tracks' jumps may be and still be one event
    private const int Remembered = 8;

    private double _audioExpected = double.NaN, _videoExpected = double.NaN;
    private double _audioFirst = double.NaN, _videoFirst = double.NaN;
    private double _audioShift, _videoShift;
    private double _videoDuration;
    private readonly Jump[] _audioJumps = new Jump[Remembered], _videoJumps = new Jump[Remembered];

    /// <summary>Accumulated audio shift minus video shift, seconds (&gt; 0: audio late).</summary>
    public double Skew => _audioShift - _videoShift;

    /// <summary>First audio timestamp minus first video timestamp, seconds; NaN until both are seen.</summary>
    public double StartOffset => _audioFirst - _videoFirst;

    /// <summary>Timestamp jumps seen on either track (shifts, drops, discontinuities).</summary>
    public int Jumps { get; private set; }

    public void Audio(double pts, double duration)
    {
        if (double.IsNaN(_audioFirst)) _audioFirst = pts;
        if (!double.IsNaN(_audioExpected))
        {
            var jump = pts - _audioExpected;
            if (Math.Abs(jump) > AudioTolerance)
            {
                Jumps++;
                _audioShift += jump;
                // the video may already have made the same jump: a discontinuity of both, not a shift
                var tolerance = Math.Max(_videoDuration, AudioTolerance) * (1 + DropTolerance);
                if (Take(_videoJumps, pts, jump, tolerance) is { } video)
                {
                    _audioShift -= jump;
                    if (video.Counted) _videoShift -= video.Size;
                }
                else Remember(_audioJumps, new Jump(pts, jump, true));
            }
            else pts = _audioExpected; // rounding: follow the sample clock, do not accumulate it
        }
        _audioExpected = pts + duration;
    }

    public void Video(double pts, double duration)
    {
        if (double.IsNaN(_videoFirst)) _videoFirst = pts;
        if (duration > 0) _videoDuration = duration;
        if (!double.IsNaN(_videoExpected) && duration > 0)
        {
            var jump = pts - _videoExpected;
            var frames = jump / duration;
            if (Math.Abs(frames) > DropTolerance)
            {
                Jumps++;
                var dropped = frames > 1 - DropTolerance && Math.Abs(frames - Math.Round(frames)) < DropTolerance;
                if (!dropped) _videoShift += jump;
                if (Take(_audioJumps, pts, jump, duration * (1 + DropTolerance)) is { } audio)
                {
                    _audioShift -= audio.Size;
                    if (!dropped) _videoShift -= jump;
                }
                else Remember(_videoJumps, new Jump(pts, jump, !dropped));
            }
            else pts = _videoExpected;
        }
        _videoExpected = pts + duration;
    }

    /// <summary>Forgets the timelines (a discontinuity of both tracks that the caller handled).</summary>
    public void Rebase()
    {
        _audioExpected = _videoExpected = double.NaN;
        Array.Clear(_audioJumps);
        Array.Clear(_videoJumps);
    }

    /// <summary>Removes and returns a remembered jump of about <paramref name="size"/> near <paramref name="time"/>.</summary>
    private static Jump? Take(Jump[] jumps, double time, double size, double tolerance)
    {
        for (var i = 0; i < jumps.Length; i++)
        {
            var j = jumps[i];
            if (j.Size == 0 || Math.Abs(j.Time - time) > MatchWindow || Math.Abs(j.Size - size) > tolerance) continue;
            jumps[i] = default;
            return j;
        }
        return null;
    }

    /// <summary>Keeps a jump for matching, in place of an empty or the oldest slot.</summary>
    private static void Remember(Jump[] jumps, Jump jump)
    {
        var slot = 0;
        for (var i = 0; i < jumps.Length; i++)
        {
            if (jumps[i].Size == 0) { slot = i; break; }
            if (jumps[i].Time < jumps[slot].Time) slot = i;
        }
        jumps[slot] = jump;
    }

    private readonly record struct Jump(double Time, double Size, bool Counted);
}
