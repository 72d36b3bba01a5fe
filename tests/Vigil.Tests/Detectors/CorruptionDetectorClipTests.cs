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
/// A recording cut mid-picture is no corruption either; packets lost just before the cut are.
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

    private const string Mpeg2 = "-c:v mpeg2video -q:v 4 -bf 2 -g 12";
    private const string H264 = "-c:v libx264 -preset veryfast -pix_fmt yuv420p -bf 2 -g 50";
    private const string Hevc = "-c:v libx265 -preset ultrafast -pix_fmt yuv420p -x265-params bframes=2:keyint=50:log-level=error";

    [Theory]
    [InlineData(Mpeg2, 53, false)]
    [InlineData(Mpeg2, 71, true)]
    [InlineData(H264, 67, false)]
    [InlineData(H264, 88, true)]
    [InlineData(Hevc, 59, false)]
    [InlineData(Hevc, 77, true)]
    public async Task Analyse_RecordingCutMidPicture_NoCorruption(string codec, int percent, bool onPacketBoundary)
    {
        // a recording stops where it was stopped: its last picture is incomplete, and the references shown
        // after it miss the B-pictures whose packets came after the end (every real capture here ends so)
        var whole = await CutClipAsync(codec);
        var bytes = await File.ReadAllBytesAsync(whole);
        var length = (long)bytes.Length * percent / 100;
        if (onPacketBoundary) length -= length % TsDamage.PacketSize;
        else if (length % TsDamage.PacketSize == 0) length += 97;
        var path = Path.Combine(TestClips.WorkFolder, $"cut-{Path.GetFileNameWithoutExtension(whole)}-{percent}-{onPacketBoundary}.ts");
        await File.WriteAllBytesAsync(path, bytes.AsMemory(0, (int)length));

        var (defects, _) = await AnalyseAsync(path, analyzeTransport: true);

        Assert.Empty(defects);
    }

    [Theory]
    [InlineData(Mpeg2)]
    [InlineData(H264)]
    [InlineData(Hevc)]
    public async Task Analyse_PacketsLostJustBeforeTheRecordingEnds_StillCorruption(string codec)
    {
        // the trap beside it: damage a few pictures before the cut is the feed's, and is reported
        var whole = await CutClipAsync(codec);
        var damage = new TsDamage(await File.ReadAllBytesAsync(whole));
        var lostFrame = damage.Frames * 7 / 10 - 8;
        var bytes = damage.DropPackets(lostFrame, 2, 6).Build();
        var path = Path.Combine(TestClips.WorkFolder, $"cut-lost-{Path.GetFileNameWithoutExtension(whole)}.ts");
        await File.WriteAllBytesAsync(path, bytes.AsMemory(0, bytes.Length * 7 / 10 + 45));

        var (defects, _) = await AnalyseAsync(path, analyzeTransport: true);

        var defect = Assert.Single(defects);
        // decode order and display order differ by a few pictures; the 4 s clip is 25 fps
        Assert.InRange(defect.Start, (lostFrame - 4) * TestClips.Frame, (lostFrame + 4) * TestClips.Frame);
    }

    [Fact]
    public async Task Analyse_RealCapturesCutMidPicture_NoCorruption()
    {
        // test-025 (MPEG-2) and test-108 (four MPEG-2 programmes and one HEVC, each cut mid-picture)
        var (single, _) = await AnalyseAsync(RealCaptures.Test025, analyzeTransport: true);
        Assert.Empty(single);
        var run = await VigilCli.RunAsync("analyze", RealCaptures.Test108, "--json", "--detectors", CorruptionDetector.KindName);
        Assert.Equal(0, run.ExitCode);
        var summary = System.Text.Json.JsonDocument.Parse(run.StdoutLines[^1]).RootElement;
        Assert.Equal(5, summary.GetProperty("programs").EnumerateArray().Count(p => p.TryGetProperty("video", out _)));
        Assert.Equal(0, summary.GetProperty("defects").GetInt32());
    }

    private static Task<string> CutClipAsync(string codec) => TestClips.Generate(
        $"cut-{(codec == Mpeg2 ? "mpeg2" : codec == H264 ? "h264" : "hevc")}.ts",
        $"-f lavfi -i testsrc2=size=640x360:rate=25:duration=4 {codec} -an -f mpegts");

    private static async Task<(IReadOnlyList<Defect> Defects, long CorruptPackets)> AnalyseAsync(string path, bool analyzeTransport)
    {
        var collector = new DefectCollector();
        using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = 1, AnalyzeTransport = analyzeTransport });
        var detector = new CorruptionDetector(new CorruptionOptions(), collector, source.Info.Video!.StreamIndex);
        var summary = await new StreamAnalyzer(source, [detector]).RunAsync();
        return (collector.Ended.Where(d => d.Kind == CorruptionDetector.KindName).ToList(), summary.CorruptPackets);
    }
}
