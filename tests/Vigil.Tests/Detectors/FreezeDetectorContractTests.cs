using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>The detector contract for <see cref="FreezeDetector"/>: the defect unit is the same textured picture every time.</summary>
public sealed class FreezeDetectorContractTests : VideoDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new FreezeDetector(new FreezeOptions(), sink);
    protected override double MinDuration => new FreezeOptions().MinDuration;
    protected override void FillDefect(VideoFrame frame) => Synthetic.FillNoise(frame.Luma, seed: 7);
}
