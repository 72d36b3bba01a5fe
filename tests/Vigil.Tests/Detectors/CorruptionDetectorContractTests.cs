using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="CorruptionDetector"/>. The defect unit is a predicted picture the
/// decoder flagged (its references were lost); the normal unit a clean key frame, which heals any damage.
/// Damage has no minimum duration: one flagged picture is a defect. Lost frames and timestamp jumps are
/// evidence of damage, not its end, and damage propagates across a hole shorter than
/// <see cref="CorruptionOptions.MaxPropagation"/>: neither splits a defect. Pictures carry their grid statistics.
/// </summary>
public sealed class CorruptionDetectorContractTests : VideoDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new CorruptionDetector(new CorruptionOptions(), sink, videoStream: 0);
    protected override double MinDuration => 0;
    protected override bool SplitsAtJumps => false;
    protected override bool SplitsAtHoles => false;

    protected override void FillDefect(VideoFrame frame)
    {
        Synthetic.FillNoise(frame.Luma, Seed(frame.Pts));
        frame.MeasureGrid();
        frame.PictureType = PictureType.P;
        frame.DecodeErrors = DecodeErrors.MissingReference;
    }

    protected override void FillNormal(VideoFrame frame)
    {
        Synthetic.FillNoise(frame.Luma, Seed(frame.Pts));
        frame.MeasureGrid();
        frame.PictureType = PictureType.I;
        frame.IsKeyFrame = true;
    }
}
