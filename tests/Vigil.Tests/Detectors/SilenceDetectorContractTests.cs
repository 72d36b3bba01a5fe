using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>The detector contract for <see cref="SilenceDetector"/>: the defect unit is digital silence, the normal unit a −20 dBFS tone.</summary>
public sealed class SilenceDetectorContractTests : AudioDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new SilenceDetector(new SilenceOptions(), sink);
    protected override double MinDuration => new SilenceOptions().MinDuration;
    protected override void FillDefect(AudioBlock block) => block.AllSamples.Clear();
    protected override void FillNormal(AudioBlock block) => FillSine(block, 0.1, 1000);
}
