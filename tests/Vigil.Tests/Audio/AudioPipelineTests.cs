using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tests.Support;

namespace Vigil.Tests.Audio;

/// <summary>The audio detectors and the whole-input meter through the real pipeline and the contract's JSON.</summary>
public class AudioPipelineTests
{
    [Fact]
    public async Task RunAsync_InputWithAudio_SummaryCarriesLoudnessMatchingFfmpeg()
    {
        // 12 s at about −23 LUFS then 14 s at about −43: audio.loudness fires on the quiet part from the shared meter
        var path = TestClips.GenerateNow("steps.m4a",
            "-f lavfi -i \"aevalsrc=exprs='0.0708*sin(2*PI*440*t)*(1-0.9*gte(t\\,12))|0.0708*sin(2*PI*660*t)*(1-0.9*gte(t\\,12))':s=48000:d=26\" -c:a aac -b:a 128k");
        var reference = AudioClips.Ebur128(path);
        var sink = new DefectCollector();
        using var source = MediaSource.Open(path);
        var detectors = DetectorCatalog.Create(DetectorCatalog.Select("audio"), new DetectorContext(source.Info, sink, DetectorSettings.Empty));
        var summary = await new StreamAnalyzer(source, detectors).RunAsync();

        var loudness = Assert.NotNull(summary.Loudness);
        Assert.Equal(reference.Integrated, loudness.IntegratedLufs, 0.1);
        Assert.Equal(reference.Range, loudness.LoudnessRangeLu, 0.3);
        Assert.Equal(reference.TruePeak, loudness.TruePeakDbtp, 0.3);
        var quiet = Assert.Single(sink.Ended, d => d.Kind == "audio.loudness");
        Assert.InRange(quiet.Start, 13, 15);
        Assert.DoesNotContain(sink.Ended, d => d.Kind == "audio.clipping");

        var line = ContractJson.Summary(summary.ToContract(sink.Count));
        Assert.Contains($"\"loudness\":{{\"integrated_lufs\":{Math.Round(loudness.IntegratedLufs, 2):0.0#}", line);
    }

    [Fact]
    public async Task RunAsync_InputWithoutAudio_HasNoLoudnessBlock()
    {
        var path = TestClips.GenerateNow("video-only.mp4", "-f lavfi -i testsrc2=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p");
        using var source = MediaSource.Open(path);
        var summary = await new StreamAnalyzer(source, []).RunAsync();
        Assert.Null(summary.Loudness);
        Assert.DoesNotContain("loudness", ContractJson.Summary(summary.ToContract(0)));
    }
}
