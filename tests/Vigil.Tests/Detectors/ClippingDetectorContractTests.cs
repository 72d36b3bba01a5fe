using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="ClippingDetector"/>: the defect unit is a 250 Hz sine driven to twice
/// full scale and hard-clipped there (flat tops two thirds of the time); the normal unit the same sine at
/// −6 dBFS. Its "minimum duration" is 0.1 s of flattened tops within 1 s; a clipped stretch ends once a whole
/// window holds less than that, so the defect closes a second after the clipping stops and the reported
/// start is the first clipped 10 ms unit of the window.
/// </summary>
public sealed class ClippingDetectorContractTests : AudioDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new ClippingDetector(new ClippingOptions(), sink);
    protected override double MinDuration => new ClippingOptions().MinClipped;
    protected override double Settle => 2.5;
    protected override void FillDefect(AudioBlock block) => FillSine(block, 2.0, 250, clip: 1.0);
    protected override void FillNormal(AudioBlock block) => FillSine(block, 0.5, 250);
}
