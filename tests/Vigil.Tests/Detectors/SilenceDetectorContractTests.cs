using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="SilenceDetector"/>: units are 40 ms stereo blocks at 48 kHz, the
/// defect unit digital silence, the normal unit a −20 dBFS tone. Audio's "resolution change" is a
/// change of channel count or sample rate mid-stream.
/// </summary>
public sealed class SilenceDetectorContractTests : DetectorContractTests
{
    private int _channels = 2;
    private int _sampleRate = 48000;

    protected override IDetector Create(IDefectSink sink) => new SilenceDetector(new SilenceOptions(), sink);
    protected override double MinDuration => new SilenceOptions().MinDuration;
    protected override double Unit => 0.04;
    protected override MediaTrack Track => MediaTrack.Audio;

    protected override void Feed(IDetector detector, double pts, bool defect)
    {
        var block = Synthetic.Sine(_channels, (int)Math.Round(Unit * _sampleRate), _sampleRate, pts, defect ? 0 : 0.1);
        ((IAudioDetector)detector).Process(block);
    }

    [Theory]
    [InlineData(1, 48000)]
    [InlineData(6, 48000)]
    [InlineData(2, 44100)]
    public void Process_FormatChangeDuringSilence_KeepsDetecting(int channels, int sampleRate)
    {
        var sink = new RecordingSink();
        var detector = Create(sink);
        var t = FeedSpan(detector, 0, 1, defect: false);
        t = FeedSpan(detector, t, 0.5, defect: true);
        (_channels, _sampleRate) = (channels, sampleRate);
        var change = t;
        var end = FeedSpan(detector, t, MinDuration + 0.5, defect: true);
        detector.Flush(end);
        var defects = WellFormed(sink, detector);
        Assert.NotEmpty(defects);
        Assert.InRange(defects[^1].Start, 1.0 - 1e-6, change + Unit + 1e-6);
        Assert.Equal(end, defects[^1].End!.Value, 2);
    }
}
