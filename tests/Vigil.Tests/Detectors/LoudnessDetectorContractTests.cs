using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="LoudnessDetector"/>, which hears the 100 ms steps of a BS.1770 meter
/// (the pipeline's own, here one per detector): the normal unit is a 1 kHz sine at −23 dBFS (−23 LUFS in
/// stereo, the EBU target), the defect unit the same 15 dB louder (−8 LUFS, far over −18).
/// Short-term loudness is measured over 3 s, so the window must fill before anything is judged and a
/// defect's reported span trails the content: the 3 s window passes −18 LUFS once 7 % of it is loud
/// (0.21 s after the onset) and falls back under it 2.79 s after the loud content stops. A change of channel
/// layout or sample rate restarts the meter's filters and window: the detector judges again 3 s later (a
/// defect under way is ended there, and a new one starts once the window is full).
/// </summary>
public sealed class LoudnessDetectorContractTests : AudioDetectorContractTests
{
    private readonly Dictionary<IDetector, LoudnessMeter> _meters = new(ReferenceEqualityComparer.Instance);

    protected override IDetector Create(IDefectSink sink) => new LoudnessDetector(new LoudnessOptions(), sink);
    protected override double MinDuration => new LoudnessOptions().MinDuration;
    protected override double Lead => 4;
    protected override double Settle => 4;
    protected override double OnsetSlack => 0.35;
    protected override double EndSlack => 2.9;
    protected override double FormatChangeRecovery => 3;
    protected override void FillDefect(AudioBlock block) => FillSine(block, Math.Pow(10, -8 / 20.0), 1000);
    protected override void FillNormal(AudioBlock block) => FillSine(block, Math.Pow(10, -23 / 20.0), 1000);

    protected override void Deliver(IDetector detector, AudioBlock block)
    {
        if (!_meters.TryGetValue(detector, out var meter))
        {
            _meters[detector] = meter = new LoudnessMeter(block.SampleRate, block.Channels);
            meter.AddObserver((ILoudnessDetector)detector);
        }
        meter.Process(block);
    }
}
