using Vigil.Detectors.Audio.Loudness;
using Vigil.Tests.Support;

namespace Vigil.Tests.Audio;

/// <summary>Whole-input loudness on decoded programme audio against FFmpeg's ebur128 on the same file.</summary>
public class LoudnessVersusFfmpegTests
{
    public static TheoryData<string, string> Programmes => new()
    {
        // tones + pink noise, stereo, through AAC
        { "mix.m4a", "-f lavfi -i \"sine=f=220:r=48000:d=20\" -f lavfi -i \"anoisesrc=c=pink:a=0.1:r=48000:d=20\" -f lavfi -i \"sine=f=1500:r=48000:d=20\" " +
                     "-filter_complex \"[0][1][2]amix=inputs=3,volume=2,pan=stereo|c0=c0|c1=0.8*c0\" -c:a aac -b:a 128k" },
        // loud and quiet sections (the gates matter), through AAC
        { "sections.m4a", "-f lavfi -i \"aevalsrc=exprs='(0.3*sin(2*PI*330*t)+0.2*(random(0)-0.5))*(1-0.9*between(mod(t\\,12)\\,6\\,12))|(0.25*sin(2*PI*550*t)+0.2*(random(1)-0.5))*(1-0.9*between(mod(t\\,12)\\,6\\,12))':s=48000:d=30\" -c:a aac -b:a 128k" },
        // the clipping tests' programme at 44.1 kHz through MP3
        { "programme.mp3", $"-f lavfi -i \"{ClippingDetectorTests.Programme}\" -ar 44100 -c:a libmp3lame -b:a 160k" },
        // 5.1: distinct noise per channel (weights 1, 1, 1, 0, 1.41, 1.41) through AC-3
        { "surround.ac3", "-f lavfi -i \"aevalsrc=exprs='0.1*(random(0)-0.5)|0.1*(random(1)-0.5)|0.2*sin(2*PI*1000*t)|0.8*sin(2*PI*50*t)|0.05*(random(2)-0.5)|0.3*sin(2*PI*3000*t)':s=48000:d=20:c=5.1\" -c:a ac3 -b:a 384k" },
    };

    [Theory]
    [MemberData(nameof(Programmes))]
    public void Integrated_ProgrammeAudio_WithinATenthOfFfmpeg(string name, string arguments)
    {
        var path = TestClips.GenerateNow(name, arguments);
        var reference = AudioClips.Ebur128(path);
        LoudnessMeter? meter = null;
        AudioClips.Decode(path, block =>
        {
            meter ??= new LoudnessMeter(block.SampleRate, block.Channels);
            meter.Process(block);
        });
        Assert.Equal(reference.Integrated, meter!.Integrated, 0.1);
        Assert.Equal(reference.Range, meter.LoudnessRange, 0.3); // FFmpeg prints one decimal; its LRA histogram has 0.1 LU bins
        Assert.Equal(reference.TruePeak, meter.TruePeakDb, 0.3);
    }
}
