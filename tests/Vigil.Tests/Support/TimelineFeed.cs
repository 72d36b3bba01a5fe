using Vigil.Detectors;
using Vigil.Pipeline;

namespace Vigil.Tests.Support;

/// <summary>
/// Plays the pipeline's part for a detector fed directly: raw timestamps go through the real
/// <see cref="Timeline"/>, and each break it finds reaches the detector before the item after it,
/// so a test can feed a clock that restarts or jumps exactly as a live feed would.
/// </summary>
public sealed class TimelineFeed(IDetector detector)
{
    private readonly Timeline _timeline = new();

    /// <summary>Media time of an item of <paramref name="track"/> stamped <paramref name="rawPts"/>; tells the detector of any break first.</summary>
    public double Map(MediaTrack track, double rawPts, double duration)
    {
        var step = _timeline.Map(track, rawPts, duration, duration);
        if (step.Break is { } broke) detector.OnDiscontinuity(broke);
        return step.Pts;
    }
}

