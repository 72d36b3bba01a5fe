using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>The detector contract for <see cref="BlackDetector"/>: the defect unit is a flat black (Y = 16) picture.</summary>
public sealed class BlackDetectorContractTests : VideoDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new BlackDetector(new BlackOptions(), sink);
    protected override double MinDuration => new BlackOptions().MinDuration;
    protected override void FillDefect(VideoFrame frame) => frame.Luma.Fill(16);
}
