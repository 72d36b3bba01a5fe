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

    // ---- moderate clipping (issue 11.1): 1–4 dB over full scale, flattened on 10–30 % of the samples ----

    private const string Aac = "-c:a aac -b:a 128k", Mp2 = "-c:a mp2 -b:a 192k", Ac3 = "-c:a ac3 -b:a 192k", Opus = "-c:a libopus -b:a 96k";

    /// <summary>Stereo sine of <paramref name="frequency"/> Hz at <paramref name="amplitude"/> (the right channel shifted in phase).</summary>
    private static string Tone(double frequency, double amplitude) => FormattableString.Invariant(
        $"{amplitude}*sin(2*PI*{frequency}*t)|{amplitude}*sin(2*PI*{frequency}*t+0.9)");

    // three partials with a tremolo (peak about −3.9 dBFS), and another mix: a bass, its octave and a twelfth, slower tremolo
    private const string Partials = "(0.25*sin(2*PI*220*t)+0.15*sin(2*PI*330*t+1)+0.1*sin(2*PI*550*t+2))*(1+0.3*sin(2*PI*5*t))" +
                                    "|(0.25*sin(2*PI*220*t+0.4)+0.15*sin(2*PI*330*t+1.7)+0.1*sin(2*PI*550*t+2.5))*(1+0.3*sin(2*PI*5*t+1))";
    private const string Partials2 = "(0.3*sin(2*PI*98*t)+0.12*sin(2*PI*196*t+1)+0.09*sin(2*PI*294*t+2))*(1+0.35*sin(2*PI*2.3*t))";

    public static TheoryData<string, string, int, double, double, double, string> ModeratelyClipped => new()
    {
        // file, aevalsrc expressions, rate, gain (dB), clipped from, to (s), codec
        { "sine300-8dB.wav", Tone(300, 0.5), 48000, 8, 2, 4, "-c:a pcm_s16le" },  // −6 dBFS + 8 dB: 2 dB over, 33 samples flat per half period
        { "sine220-8dB.m4a", Tone(220, 0.5), 48000, 8, 2, 4, Aac },
        { "partials-x2.2.mp2", Partials, 48000, 20 * Math.Log10(2.2), 1.5, 4.5, Mp2 },
        // the same classes with other values
        { "sine150-10dB.ac3", Tone(150, 0.5), 48000, 10, 2, 4, Ac3 },
        { "sine1000-7dB.opus", Tone(1000, 0.5), 48000, 7, 1, 3, Opus },
        { "sine440-8dB-44k.mp2", Tone(440, 0.5), 44100, 8, 2.5, 4.5, Mp2 },
        { "sine2500-16dB.m4a", Tone(2500, 0.25), 44100, 16, 2, 4, Aac },
        { "partials2-x2.5.m4a", Partials2, 44100, 20 * Math.Log10(2.5), 2, 5, Aac },
        { "partials-x3.opus", Partials, 48000, 20 * Math.Log10(3), 2, 4, Opus },
        { "partials2-x2.ac3", Partials2, 48000, 20 * Math.Log10(2), 1, 4, Ac3 },
    };

    [Theory]
    [MemberData(nameof(ModeratelyClipped))]
    public void Detect_ModerateClippingOfTonesAndPartials_SpansTheClippedStretch(string name, string expressions, int rate, double gainDb,
        double from, double to, string codec)
    {
        var clip = FormattableString.Invariant(
            $"-f lavfi -i \"aevalsrc='{expressions}':s={rate}:d=6\" -af \"volume=enable='between(t\\,{from}\\,{to})':volume={gainDb:0.###}dB,asoftclip=type=hard\" {codec}");
        var found = Run(TestClips.GenerateNow(name, clip));
        var f1 = F1(found.Select(d => (d.Start, d.End!.Value)).ToArray(), [(from, to)]);
        Assert.True(f1 >= 0.9, $"F1 {f1:0.000} on {name}: found {string.Join(", ", found.Select(d => $"{d.Start:0.00}–{d.End:0.00}"))}");
    }

    public static TheoryData<string, string> CleanNearFullScale => new()
    {
        // clean sines peaking at −0.2 dBFS through every codec (the codecs lift some peaks over full scale)
        { "clean300.wav", $"-f lavfi -i \"aevalsrc='{Tone(300, 0.977)}':s=48000:d=6\" -c:a pcm_s16le" },
        { "clean220.m4a", $"-f lavfi -i \"aevalsrc='{Tone(220, 0.977)}':s=48000:d=6\" {Aac}" },
        { "clean1000.mp2", $"-f lavfi -i \"aevalsrc='{Tone(1000, 0.977)}':s=48000:d=6\" {Mp2}" },
        { "clean80.ac3", $"-f lavfi -i \"aevalsrc='{Tone(80, 0.977)}':s=44100:d=6\" {Ac3}" },
        { "clean3000.opus", $"-f lavfi -i \"aevalsrc='{Tone(3000, 0.977)}':s=48000:d=6\" {Opus}" },
        { "clean-partials.mp2", $"-f lavfi -i \"aevalsrc='{Partials}':s=48000:d=6\" -af volume=3.7dB {Mp2}" },
        // brick-wall-limited masters: driven 12–18 dB into a look-ahead limiter at −0.1 dBFS
        { "brickwall.wav", $"-f lavfi -i \"{Programme}\" -af alimiter=level_in=8:limit=0.989:level=false -c:a pcm_s16le" },
        { "brickwall-partials.mp2", $"-f lavfi -i \"aevalsrc='{Partials}':s=48000:d=6\" -af alimiter=level_in=4:limit=0.989:level=false {Mp2}" },
        { "brickwall-partials2.ac3", $"-f lavfi -i \"aevalsrc='{Partials2}':s=48000:d=6\" -af alimiter=level_in=6:limit=0.989:level=false:attack=1:release=50 {Ac3}" },
        { "brickwall.opus", $"-f lavfi -i \"{Programme}\" -af alimiter=level_in=8:limit=0.989:level=false:attack=1:release=10 {Opus}" },
    };

    [Theory]
    [MemberData(nameof(CleanNearFullScale))]
    public void Detect_CleanNearFullScaleOrBrickWallLimited_FindsNothing(string name, string arguments)
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
        // least of three runs: a real per-block allocation shows in every run, a one-off (a late JIT) does not
        var least = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 2000; i++) Next();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, least);
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
