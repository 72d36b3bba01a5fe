using Vigil.Detectors;

namespace Vigil.Pipeline;

/// <summary>
/// The one owner of media time. Maps each track's raw timestamps onto one continuous media timeline
/// and says where that timeline breaks. Decoders hand out what the container says; live feeds
/// splice, restart encoders, change codec and wrap MPEG-TS's 33-bit clock, so raw time jumps
/// backwards or far forwards. Each jump opens an epoch with an offset that continues the timeline
/// where it left off. The offset is shared by audio and video: the second track to jump by the same
/// amount joins the first track's epoch, so their alignment (A/V sync) survives. Missing timestamps
/// are extrapolated from the previous item; missing durations come from the nominal rate.
/// Every rule is a <see cref="Continuity"/> constant; each step reports the <see cref="Discontinuity"/>
/// detectors must not straddle (a jump, a codec change, a hole or an overlap beyond the track's tolerance).
/// </summary>
public sealed class Timeline
{
    private readonly Track[] _tracks = [new(), new()];
    private double _epochOffset;   // offset of the newest epoch
    private double _epochRawStart = double.NaN;
    private int _epoch;

    /// <summary>One item mapped onto media time.</summary>
    /// <param name="Pts">Continuous media time of the item.</param>
    /// <param name="Duration">Its duration (nominal when the container gave none).</param>
    /// <param name="Jump">The raw timestamp jump (seconds) that opened a new epoch here; NaN if none.</param>
    /// <param name="Hole">Media time between the end of the track's previous item and this one (0 across a jump; &lt; 0 an overlap).</param>
    /// <param name="Break">The discontinuity before this item, if any.</param>
    public readonly record struct Step(double Pts, double Duration, double Jump, double Hole, Discontinuity? Break);

    /// <summary>Maps one item's raw pts/duration (seconds) to continuous media time.</summary>
    public Step Map(MediaTrack kind, double rawPts, double duration, double nominalDuration)
    {
        var track = _tracks[(int)kind];
        if (duration <= 0 || double.IsNaN(duration)) duration = nominalDuration;
        if (double.IsNaN(rawPts))
            rawPts = double.IsNaN(track.LastRawEnd) ? 0 : track.LastRawEnd;
        var codecChanged = track.CodecChanged;
        track.CodecChanged = false;

        double jump = double.NaN, hole = 0;
        Discontinuity? broke = null;
        if (!double.IsNaN(track.LastRawEnd))
        {
            var lastEnd = track.LastRawEnd + track.Offset;
            var step = rawPts - track.LastRawEnd;
            if (step < -Continuity.BackwardJump || step > Continuity.ForwardJump)
            {
                jump = step;
                if (_epoch > track.Epoch && Math.Abs(rawPts - _epochRawStart) < Continuity.SameSplice)
                {
                    // the other track already jumped here: join its epoch
                    track.Offset = _epochOffset;
                    track.Epoch = _epoch;
                }
                else
                {
                    // a new epoch: continue the timeline from where this track left off
                    _epoch++;
                    _epochOffset = lastEnd - rawPts;
                    _epochRawStart = rawPts;
                    track.Offset = _epochOffset;
                    track.Epoch = _epoch;
                }
                broke = new Discontinuity(kind, codecChanged ? DiscontinuityCause.CodecChange : DiscontinuityCause.Jump, lastEnd, rawPts + track.Offset);
            }
            else
            {
                hole = step;
                var cause = codecChanged ? DiscontinuityCause.CodecChange
                    : step > MaxHole(kind) ? DiscontinuityCause.Hole
                    : step < -MaxOverlap(kind) ? DiscontinuityCause.Overlap
                    : (DiscontinuityCause?)null;
                if (cause is { } c) broke = new Discontinuity(kind, c, lastEnd, rawPts + track.Offset);
            }
        }
        else if (_epoch > 0)
        {
            track.Offset = _epochOffset;
            track.Epoch = _epoch;
        }

        track.LastRawEnd = rawPts + duration;
        return new Step(rawPts + track.Offset, duration, jump, hole, broke);
    }

    /// <summary>
    /// The track's codec changed (a new elementary stream): its next item starts after a
    /// <see cref="DiscontinuityCause.CodecChange"/> break, wherever its timestamps land.
    /// </summary>
    public void CodecChanged(MediaTrack kind) => _tracks[(int)kind].CodecChanged = true;

    /// <summary>
    /// Media time of a bitstream event stamped with a track's raw time (no state change). Events
    /// without a timestamp are placed at the end of what has been mapped so far.
    /// </summary>
    public double MapEvent(MediaTrack? kind, double rawPts)
    {
        if (kind is { } k && !double.IsNaN(rawPts)) return rawPts + _tracks[(int)k].Offset;
        var end = 0.0;
        foreach (var t in _tracks)
            if (!double.IsNaN(t.LastRawEnd)) end = Math.Max(end, t.LastRawEnd + t.Offset);
        return end;
    }

    /// <summary>Pictures may be a second apart (a slide show); audio is contiguous to the sample.</summary>
    private static double MaxHole(MediaTrack kind) => kind == MediaTrack.Video ? Continuity.MaxHole : Continuity.AudioAlignment;

    private static double MaxOverlap(MediaTrack kind) => kind == MediaTrack.Video ? Continuity.VideoOverlap : Continuity.AudioAlignment;

    private sealed class Track
    {
        public double LastRawEnd = double.NaN;
        public double Offset;
        public int Epoch;
        public bool CodecChanged;
    }
}
