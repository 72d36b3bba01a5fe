using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tests.Support;
using Vigil.Tools.Corpus;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Packets the demuxer flags corrupt while every picture decodes cleanly (PES length mismatch, as on a real
/// broadcast) are no corruption; the same stream with packets really lost is.
/// </summary>
public sealed class CorruptionDetectorClipTests
{
    [Fact]
    public async Task Analyse_RealBroadcastWithPesLengthMismatch_NoCorruption()
    {
        // test-072: TSDuck finds no continuity error; FFmpeg flags 293 packets corrupt on PES length mismatch
        if (RealCorpus.Find("test-072.ts") is not { } path) return; // no shared corpus on this machine
        var (defects, corruptPackets) = await AnalyseAsync(path);

        Assert.True(corruptPackets > 100);
        Assert.Empty(defects);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Analyse_MislabelledPesLengths_NoCorruptionUnlessPacketsAreLost(bool lost)
    {
        // a fast pan (motion breaks blocks on its own) with every video PES flagged corrupt by the demuxer
        var clean = await TestClips.Generate("corruption-pan.ts",
            "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6,scroll=horizontal=0.03:vertical=0.02 " +
            "-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 2 -crf 20 -f mpegts");
        var damage = new TsDamage(await File.ReadAllBytesAsync(clean)).MislabelPesLengths();
        if (lost) damage.DropPackets(30, 3, 7).DropPackets(85, 3, 7);
        var path = Path.Combine(TestClips.WorkFolder, $"corruption-pan-mislabelled-{lost}.ts");
        await File.WriteAllBytesAsync(path, damage.Build());

        var (defects, corruptPackets) = await AnalyseAsync(path);

        Assert.True(corruptPackets >= 140);
        if (!lost)
        {
            Assert.Empty(defects);
            return;
        }
        // frames 30 and 85 in decode order are shown at about 1.2 s and 3.4 s; the key frame at 2 s heals the first
        Assert.Equal(2, defects.Count);
        Assert.InRange(defects[0].Start, 1.0, 1.4);
        Assert.InRange(defects[1].Start, 3.2, 3.6);
    }

    private static async Task<(IReadOnlyList<Defect> Defects, long CorruptPackets)> AnalyseAsync(string path)
    {
        var collector = new DefectCollector();
        using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = 1 });
        var detector = new CorruptionDetector(new CorruptionOptions(), collector, source.Info.Video!.StreamIndex);
        var summary = await new StreamAnalyzer(source, [detector]).RunAsync();
        return (collector.Ended.Where(d => d.Kind == CorruptionDetector.KindName).ToList(), summary.CorruptPackets);
    }
}
