namespace Vigil.Pipeline;

/// <summary>
/// Maps each track's raw timestamps onto one continuous media timeline. Decoders hand out what the
/// container says; live feeds splice, restart encoders and wrap MPEG-TS's 33-bit clock, so raw time
/// jumps backwards or far forwards. Each jump opens an epoch with an offset that continues the
/// timeline where it left off. The offset is shared by audio and video: the second track to jump
/// by the same amount joins the first track's epoch, so their alignment (A/V sync) survives.
/// Missing timestamps are extrapolated from the previous frame; missing durations come from the
/// nominal rate.
/// </summary>
public sealed class Timeline
{
    /// <summary>A forward jump larger than this is a discontinuity rather than a gap in the media.</summary>
    public const double MaxForwardJump = 10.0;
    /// <summary>Backward steps up to this are reordering jitter, not a discontinuity.</summary>
    private const double BackwardTolerance = 0.5;
    /// <summary>Two tracks whose jumps land within this of each other belong to the same splice.</summary>
    private const double SameSpliceWindow = 2.0;

    private readonly Track[] _tracks = [new(), new()];
    private double _epochOffset;   // offset of the newest epoch
    private double _epochRawStart = double.NaN;
    private int _epoch;

    public enum Kind { Video = 0, Audio = 1 }

    /// <summary>The latest discontinuity, as raw jump in seconds, for the caller to report; NaN if none on this call.</summary>
    public double LastJump { get; private set; } = double.NaN;

    /// <summary>Maps one frame's raw pts/duration to continuous media time.</summary>
    public (double Pts, double Duration) Map(Kind kind, double rawPts, double duration, double nominalDuration)
    {
        LastJump = double.NaN;
        var track = _tracks[(int)kind];
        if (duration <= 0 || double.IsNaN(duration)) duration = nominalDuration;
        if (double.IsNaN(rawPts))
            rawPts = double.IsNaN(track.LastRawEnd) ? 0 : track.LastRawEnd;

        if (!double.IsNaN(track.LastRawEnd))
        {
            var step = rawPts - track.LastRawEnd;
            if (step < -BackwardTolerance || step > MaxForwardJump)
            {
                LastJump = step;
                if (_epoch > track.Epoch && Math.Abs(rawPts - _epochRawStart) < SameSpliceWindow)
                {
                    // the other track already jumped here: join its epoch
                    track.Offset = _epochOffset;
                    track.Epoch = _epoch;
                }
                else
                {
                    // a new epoch: continue the timeline from where this track left off
                    _epoch++;
                    _epochOffset = track.LastRawEnd + track.Offset - rawPts;
                    _epochRawStart = rawPts;
                    track.Offset = _epochOffset;
                    track.Epoch = _epoch;
                }
            }
        }
        else if (_epoch > 0)
        {
            track.Offset = _epochOffset;
            track.Epoch = _epoch;
        }

        track.LastRawEnd = rawPts + duration;
        var pts = rawPts + track.Offset;
        return (pts, duration);
    }

    /// <summary>
    /// Media time of a bitstream event stamped with a track's raw time (no state change). Events
    /// without a timestamp are placed at the end of what has been mapped so far.
    /// </summary>
    public double MapEvent(Kind? kind, double rawPts)
    {
        if (kind is { } k && !double.IsNaN(rawPts)) return rawPts + _tracks[(int)k].Offset;
        var end = 0.0;
        foreach (var t in _tracks)
            if (!double.IsNaN(t.LastRawEnd)) end = Math.Max(end, t.LastRawEnd + t.Offset);
        return end;
    }

    private sealed class Track
    {
        public double LastRawEnd = double.NaN;
        public double Offset;
        public int Epoch;
    }
}
