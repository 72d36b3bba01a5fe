using Vigil.Detectors;
using Vigil.Detectors.Stream;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="DiscontinuityDetector"/>, which hears only bitstream events. The
/// defect unit is a lost packet (an MPEG-TS continuity error); the normal unit an event that is not its
/// kind of incident: a decode error (the corruption detector's evidence) or a gap in the video shorter than
/// <see cref="DiscontinuityOptions.MinGap"/> (jitter). Incidents have no minimum duration; a point event
/// gets one frame's extent. It hears nothing when all is well: an incident ends on the tick that finds media
/// time <see cref="DiscontinuityOptions.Merge"/> past its last event. Timestamp jumps are incidents of its own
/// (the pipeline reports them to it as events), so they do not split one; a hole longer than the merge
/// distance does, by that rule.
/// </summary>
public sealed class DiscontinuityDetectorContractTests : DetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new DiscontinuityDetector(new DiscontinuityOptions(), sink);
    protected override double Unit => 0.04;
    protected override double MinDuration => 0;
    protected override MediaTrack[] Tracks => [MediaTrack.Video];
    protected override bool SplitsAtJumps => false;
    protected override double Settle => 2 * new DiscontinuityOptions().Merge;

    private static MediaEvent Event(double pts, bool defect) =>
        defect ? new MediaEvent(MediaEventKind.PacketCorrupt, 0, pts)
        : (int)Math.Round(pts / 0.04) % 2 == 0 ? new MediaEvent(MediaEventKind.DecodeError, 0, pts)
        : new MediaEvent(MediaEventKind.FrameGap, 0, pts, 0.06);

    protected override void Feed(IDetector detector, double pts, bool defect) => ((IMediaEventDetector)detector).Process(Event(pts, defect));

    protected override Action<double> Reusing(IDetector detector, bool defect)
    {
        var events = (IMediaEventDetector)detector;
        return pts => events.Process(Event(pts, defect)); // a struct: nothing to make up front
    }
}
