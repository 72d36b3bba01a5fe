namespace Vigil.Detectors;

/// <summary>The two tracks a stream's analysis follows.</summary>
public enum MediaTrack { Video = 0, Audio = 1 }

/// <summary>Why a track's media does not continue.</summary>
public enum DiscontinuityCause
{
    /// <summary>The raw timestamps jumped (splice, encoder restart, 33-bit wrap); media time continues seamlessly across it.</summary>
    Jump,

    /// <summary>Media is missing: the next item starts later than the previous one ended by more than the track's tolerance.</summary>
    Hole,

    /// <summary>The next item starts before the previous one ended by more than the track's tolerance.</summary>
    Overlap,

    /// <summary>The track's codec changed (a new elementary stream): a new decoder, new content.</summary>
    CodecChange,
}

/// <summary>
/// A break in one track, as the pipeline's timeline sees it: the track's media last ended at
/// <see cref="At"/> and resumes at <see cref="Resume"/> (both continuous media time).
/// </summary>
public readonly record struct Discontinuity(MediaTrack Track, DiscontinuityCause Cause, double At, double Resume)
{
    /// <summary>Seconds of media missing across the break: &gt; 0 for a hole, &lt; 0 for an overlap, 0 across a jump.</summary>
    public double Missing => Resume - At;
}

/// <summary>
/// The timing rules of the analysis, in one place: the pipeline's timeline decides with them what is a
/// discontinuity, and detectors that need a tolerance read it here.
/// </summary>
public static class Continuity
{
    /// <summary>A raw step forward longer than this is a timestamp jump (a new epoch), not media missing.</summary>
    public const double ForwardJump = 10.0;

    /// <summary>A raw step back further than this is a timestamp jump; shorter ones are reordering jitter.</summary>
    public const double BackwardJump = 0.5;

    /// <summary>Two tracks whose jumps land within this of each other belong to the same splice (one offset for both).</summary>
    public const double SameSplice = 2.0;

    /// <summary>A hole between pictures, or between audio units of an interval, longer than this breaks it.</summary>
    public const double MaxHole = 1.0;

    /// <summary>Pictures never overlap in presentation order: one starting more than this before the previous ended is a break.</summary>
    public const double VideoOverlap = 0.001;

    /// <summary>Audio is contiguous: a block starting more than this off the previous block's end is a break.</summary>
    public const double AudioAlignment = 0.1;

    /// <summary>A picture later than this many frame durations after the previous one means frames are missing (evidence, not a break).</summary>
    public const double FrameGapFactor = 1.5;

    /// <summary>A track that has delivered nothing for this long while others went on has stopped: media time goes on without it.</summary>
    public const double StoppedTrack = ForwardJump;

    /// <summary>The pipeline ticks the detectors at least this often in media time.</summary>
    public const double TickSeconds = 0.1;
}
