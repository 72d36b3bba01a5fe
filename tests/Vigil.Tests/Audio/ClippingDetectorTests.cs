using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Events;
using Vigil.Tests.Support;

namespace Vigil.Tests.Audio;

/// <summary>
/// Clipping before and after lossy codecs, on programme-like audio clipped by construction at known times,
/// and no clipping on loud clean material (full-scale sine, a limited master).
/// </summary>
public class ClippingDetectorTests
{
    // programme-like stereo: bass and mid tones, a hi tone, noise "drum" hits every 0.5 s; peaks about −3.4 dBFS
    internal const string Programme =
        "aevalsrc=exprs='0.24*sin(2*PI*110*t)+0.16*sin(2*PI*440*t+sin(2*PI*5*t))+0.06*sin(2*PI*2500*t)+0.5*(random(0)-0.5)*exp(-20*mod(t\\,0.5))" +
        "|0.2*sin(2*PI*110*t+0.3)+0.18*sin(2*PI*660*t)+0.06*sin(2*PI*3300*t)+0.5*(random(1)-0.5)*exp(-20*mod(t\\,0.5))':s=48000:d=10";
    // +12 dB then a hard clip at full scale over 2.0–3.5 s and 6.0–6.6 s
    private const string ClipFilter = "volume=enable='between(t\\,2\\,3.5)+between(t\\,6\\,6.6)':volume=12dB,asoftclip=type=hard";
    private static readonly (double, double)[] Truth = [(2.0, 3.5), (6.0, 6.6)];

    public static TheoryData<string, string> Codecs => new()
    {
        { "wav", "-c:a pcm_s16le" },
        { "m4a", "-c:a aac -b:a 128k" },
        { "mp2", "-c:a mp2 -b:a 192k" },
        { "ac3", "-c:a ac3 -b:a 192k" },
        { "opus", "-c:a libopus -b:a 96k" },
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Detect_ProgrammeClippedAtKnownTimes_F1AtLeast09(string extension, string codec)
    {
        var path = TestClips.GenerateNow($"clipped.{extension}", $"-f lavfi -i \"{Programme}\" -af \"{ClipFilter}\" {codec}");
        var found = Run(path);
        var f1 = F1(found.Select(d => (d.Start, d.End!.Value)).ToArray(), Truth);
        Assert.True(f1 >= 0.9, $"F1 {f1:0.000} on {extension}: found {string.Join(", ", found.Select(d => $"{d.Start:0.00}–{d.End:0.00}"))}");
    }

    [Fact]
    public void Detect_ClippingByConversionToSixteenBit_IsFound()
    {
        // the other common cause: a float signal over full scale written as integer PCM
        var path = TestClips.GenerateNow("clipped-s16.wav", $"-f lavfi -i \"{Programme}\" -af \"volume=enable='between(t\\,2\\,3.5)+between(t\\,6\\,6.6)':volume=12dB,aformat=s16\" -c:a pcm_s16le");
        var found = Run(path);
        Assert.True(F1(found.Select(d => (d.Start, d.End!.Value)).ToArray(), Truth) >= 0.9);
    }

    [Fact]
    public void Detect_OnlyLeftChannelClipped_ReportsTheChannel()
    {
        var path = TestClips.GenerateNow("clipped-left.m4a", $"-f lavfi -i \"{Programme}\" -af \"pan=stereo|c0=4*c0|c1=c1,asoftclip=type=hard\" -c:a aac -b:a 128k");
        var found = Run(path);
        var defect = Assert.Single(found);
        Assert.Equal(0, defect.Details!["channel"]);
        Assert.True(defect.End - defect.Start > 9);
    }

    public static TheoryData<string, string> CleanLoud => new()
    {
        // a 997 Hz sine at 0 dBFS, raw and through AAC (which lifts its peak to +0.8 dBFS)
        { "sine0.wav", "-f lavfi -i \"sine=f=997:r=48000:d=10,volume=18.0618dB,pan=stereo|c0=c0|c1=c0\" -c:a pcm_f32le" },
        { "sine0.m4a", "-f lavfi -i \"sine=f=997:r=48000:d=10,volume=18.0618dB,pan=stereo|c0=c0|c1=c0\" -c:a aac -b:a 128k" },
        { "sine50.m4a", "-f lavfi -i \"sine=f=50:r=48000:d=10,volume=18.0618dB,pan=stereo|c0=c0|c1=c0\" -c:a aac -b:a 128k" },
        // a loud master: the programme driven 18 dB into a look-ahead limiter at −1 dBFS, raw and through codecs
        { "master.wav", $"-f lavfi -i \"{Programme}\" -af \"alimiter=level_in=8:limit=0.891:level=false\" -c:a pcm_f32le" },
        { "master.m4a", $"-f lavfi -i \"{Programme}\" -af \"alimiter=level_in=8:limit=0.891:level=false\" -c:a aac -b:a 128k" },
        { "master.opus", $"-f lavfi -i \"{Programme}\" -af \"acompressor=threshold=0.1:ratio=8:attack=1:release=50:makeup=4,alimiter=level_in=2:limit=0.891:level=false:attack=2:release=30\" -c:a libopus -b:a 96k" },
        { "programme.m4a", $"-f lavfi -i \"{Programme}\" -c:a aac -b:a 128k" },
    };

    [Theory]
    [MemberData(nameof(CleanLoud))]
    public void Detect_LoudCleanMaterial_FindsNothing(string name, string arguments)
    {
        Assert.Empty(Run(TestClips.GenerateNow(name, arguments)));
    }

    [Fact]
    public void Detect_SynthesisedClippedSine_SpansTheClippedStretch()
    {
        // 200 Hz at 4× full scale clipped to ±1 from 1.0 to 2.5 s; a clean full-scale sine elsewhere
        const int rate = 48000;
        var sink = new DefectCollector();
        var detector = new ClippingDetector(new ClippingOptions(), sink);
        Signals.Feed(rate, 2, 4, (_, n) =>
        {
            var t = n / (double)rate;
            var v = (t is >= 1.0 and < 2.5 ? 4 : 1) * Math.Sin(2 * Math.PI * 200 * t);
            return Math.Clamp(v, -1, 1);
        }, detector.Process);
        detector.Flush(4);
        var defect = Assert.Single(sink.Ended);
        Assert.Equal(1.0, defect.Start, 0.02);
        Assert.Equal(2.5, defect.End!.Value, 0.02);
        Assert.True(defect.Details!["clipped_fraction"] > 0.5);
    }

    [Fact]
    public void Detect_ShortBurstsBelowTheContractTotal_FindsNothing()
    {
        // 50 ms of hard clipping every second: 0.05 s in any 1 s window, under the 0.1 s the contract asks
        const int rate = 48000;
        var sink = new DefectCollector();
        var detector = new ClippingDetector(new ClippingOptions(), sink);
        Signals.Feed(rate, 1, 5, (_, n) => Math.Clamp((n % rate < rate / 20 ? 4 : 0.5) * Math.Sin(2 * Math.PI * 200 * n / rate), -1, 1), detector.Process);
        detector.Flush(5);
        Assert.Empty(sink.Ended);
    }

    [Fact]
    public void Process_SteadyStateWhileClipping_AllocatesNothing()
    {
        var detector = new ClippingDetector(new ClippingOptions(), new DefectCollector());
        var block = Vigil.Media.AudioBlock.Create(2, 1024, 48000, 0);
        for (var i = 0; i < 1024; i++)
            block.Channel(0)[i] = block.Channel(1)[i] = (float)Math.Clamp(3 * Math.Sin(2 * Math.PI * 187.5 * i / 48000), -1, 1);
        var pts = 0.0;
        void Next()
        {
            block.Pts = pts;
            pts += block.Duration;
            detector.Process(block);
        }
        for (var i = 0; i < 200; i++) Next(); // warm up; the defect has started
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++) Next();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static IReadOnlyList<Defect> Run(string path)
    {
        var sink = new DefectCollector();
        var detector = new ClippingDetector(new ClippingOptions(), sink);
        var end = 0.0;
        AudioClips.Decode(path, block =>
        {
            detector.Process(block);
            end = block.Pts + block.Duration;
        });
        detector.Flush(end);
        return sink.Ended;
    }

    /// <summary>Time-overlap F1 of found intervals against the truth.</summary>
    internal static double F1((double Start, double End)[] found, (double Start, double End)[] truth)
    {
        double Overlap((double Start, double End) a, (double Start, double End) b) => Math.Max(0, Math.Min(a.End, b.End) - Math.Max(a.Start, b.Start));
        var hit = found.Sum(f => truth.Sum(t => Overlap(f, t)));
        var foundLength = found.Sum(f => f.End - f.Start);
        var truthLength = truth.Sum(t => t.End - t.Start);
        if (foundLength == 0 || hit == 0) return 0;
        double precision = hit / foundLength, recall = hit / truthLength;
        return 2 * precision * recall / (precision + recall);
    }
}
