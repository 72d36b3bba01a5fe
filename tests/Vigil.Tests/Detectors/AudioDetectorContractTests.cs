using Vigil.Detectors;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for audio detectors: units are 40 ms blocks, 48 kHz stereo unless a test changes
/// it. Audio's "resolution change" is a change of channel count or sample rate mid-stream (a programme
/// switching from stereo to 5.1, a new encoder).
/// </summary>
public abstract class AudioDetectorContractTests : DetectorContractTests
{
    private int _channels = 2;
    private int _sampleRate = 48000;

    protected override double Unit => 0.04;

    protected override MediaTrack[] Tracks => [MediaTrack.Audio];

    /// <summary>Hands a block to the detector as the pipeline does (a detector that listens to loudness hears it through a meter).</summary>
    protected virtual void Deliver(IDetector detector, AudioBlock block) => ((IAudioDetector)detector).Process(block);

    /// <summary>Fills a "defect" block (silence, a loud tone, a clipped wave); samples depend on the block's time only.</summary>
    protected abstract void FillDefect(AudioBlock block);

    /// <summary>Fills a "normal" block: programme-like level, nothing wrong with it.</summary>
    protected abstract void FillNormal(AudioBlock block);

    /// <summary>A sine of peak <paramref name="amplitude"/>, phase-continuous across blocks (its phase follows the time), optionally hard-clipped at ±<paramref name="clip"/>.</summary>
    protected static void FillSine(AudioBlock block, double amplitude, double frequency, double clip = double.PositiveInfinity)
    {
        for (var c = 0; c < block.Channels; c++)
        {
            var samples = block.Channel(c);
            for (var i = 0; i < samples.Length; i++)
            {
                var value = amplitude * Math.Sin(2 * Math.PI * frequency * (block.Pts + i / (double)block.SampleRate));
                samples[i] = (float)Math.Clamp(value, -clip, clip);
            }
        }
    }

    private AudioBlock Make(double pts, bool defect)
    {
        var block = AudioBlock.Create(_channels, (int)Math.Round(Unit * _sampleRate), _sampleRate, pts);
        if (defect) FillDefect(block);
        else FillNormal(block);
        return block;
    }

    protected override void Feed(IDetector detector, double pts, bool defect) => Deliver(detector, Make(pts, defect));

    protected override Action<double> Reusing(IDetector detector, bool defect)
    {
        // whole periods of the test tones fit a 40 ms block, so re-stamped blocks stay continuous
        var blocks = Enumerable.Range(0, 8).Select(i => Make(i * Unit, defect)).ToArray();
        var next = 0;
        return pts =>
        {
            var block = blocks[next++ % blocks.Length];
            block.Pts = pts;
            Deliver(detector, block);
        };
    }

    [Theory]
    [InlineData(1, 48000)]
    [InlineData(6, 48000)]
    [InlineData(2, 44100)]
    public void Process_FormatChangeDuringDefect_KeepsDetecting(int channels, int sampleRate) =>
        AssertFormatChangeDuringDefectKeepsDetecting(() => (_channels, _sampleRate) = (channels, sampleRate));

    [Fact]
    public void Process_FormatChangesWithNormalContent_EmitNothing() =>
        AssertFormatChangesWithNormalContentEmitNothing(() => (_channels, _sampleRate) = (6, 48000), () => (_channels, _sampleRate) = (2, 44100));
}
