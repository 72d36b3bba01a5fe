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
/// broadcast) are no corruption; the same stream with packets really lost is. Both with the demuxer's flags
/// (transport analysis off) and with the transport analyser's lost packets, which replace them on MPEG-TS.
/// </summary>
public sealed class CorruptionDetectorClipTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Analyse_RealBroadcastWithPesLengthMismatch_NoCorruption(bool analyzeTransport)
    {
        // test-072: TSDuck finds no continuity error; FFmpeg flags 293 packets corrupt on PES length mismatch
        var (defects, corruptPackets) = await AnalyseAsync(RealCaptures.Test072, analyzeTransport);

        if (analyzeTransport) Assert.Equal(0, corruptPackets); // the analyser finds no packet lost
        else Assert.True(corruptPackets > 100);
        Assert.Empty(defects);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Analyse_MislabelledPesLengths_NoCorruptionUnlessPacketsAreLost(bool lost, bool analyzeTransport)
    {
        // a fast pan (motion breaks blocks on its own) with every video PES flagged corrupt by the demuxer
        var clean = await TestClips.Generate("corruption-pan.ts",
            "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6,scroll=horizontal=0.03:vertical=0.02 " +
            "-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 2 -crf 20 -f mpegts");
        var damage = new TsDamage(await File.ReadAllBytesAsync(clean)).MislabelPesLengths();
        if (lost) damage.DropPackets(30, 3, 7).DropPackets(85, 3, 7);
        var path = Path.Combine(TestClips.WorkFolder, $"corruption-pan-mislabelled-{lost}.ts");
        await File.WriteAllBytesAsync(path, damage.Build());

        var (defects, corruptPackets) = await AnalyseAsync(path, analyzeTransport);

        if (analyzeTransport) Assert.Equal(0, corruptPackets);
        else Assert.True(corruptPackets >= 140);
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

    private static async Task<(IReadOnlyList<Defect> Defects, long CorruptPackets)> AnalyseAsync(string path, bool analyzeTransport)
    {
        var collector = new DefectCollector();
        using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = 1, AnalyzeTransport = analyzeTransport });
        var detector = new CorruptionDetector(new CorruptionOptions(), collector, source.Info.Video!.StreamIndex);
        var summary = await new StreamAnalyzer(source, [detector]).RunAsync();
        return (collector.Ended.Where(d => d.Kind == CorruptionDetector.KindName).ToList(), summary.CorruptPackets);
    }
}
