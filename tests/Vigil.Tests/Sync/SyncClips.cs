using System.Globalization;
using System.Text;
using Vigil.Detectors;
using Vigil.Detectors.Sync;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tests.Support;
using Vigil.Tools.Corpus;

namespace Vigil.Tests.Sync;

/// <summary>
/// Clips for the A/V sync tests, generated with the ffmpeg CLI (320×240, H.264 + AAC in MP4), with the
/// true offset known by construction, and the code that runs one through <see cref="AvSyncDetector"/>.
/// </summary>
internal static class SyncClips
{
    /// <summary>Gaps between sync events, in frames at 25 fps scale: irregular, so the pattern has one alignment.</summary>
    private static readonly double[] Gaps = [0.92, 1.28, 0.76, 1.12, 1.40, 0.84, 1.04, 1.24, 0.80, 1.16, 1.36, 0.88, 1.08, 0.96, 1.32, 0.72, 1.20, 1.00, 0.84, 1.28];

    /// <summary>Flash frame times (seconds, on the frame grid) from 0.6 s to <paramref name="duration"/> − 0.6 s.</summary>
    public static IReadOnlyList<double> EventTimes(double fps, double duration)
    {
        var times = new List<double>();
        var t = 0.6;
        for (var i = 0; t < duration - 0.6; i++)
        {
            times.Add(Math.Round(t * fps) / fps);
            t += Gaps[i % Gaps.Length];
        }
        return times;
    }

    /// <summary>
    /// Black picture with a one-frame white flash, and a one-frame 1 kHz beep, at each event time; the
    /// audio is then shifted by <paramref name="offsetMs"/> (&gt; 0 late, with <c>adelay</c>; &lt; 0 early,
    /// with <c>atrim</c>).
    /// </summary>
    public static string BeepFlash(double fps, int offsetMs, double duration = 16)
    {
        var name = $"beepflash-{fps}-{offsetMs}.mp4";
        var times = EventTimes(fps, duration);
        var frames = string.Join("+", times.Select(t => $"eq(n\\,{(int)Math.Round(t * fps)})"));
        var beep = Beeps(times, 1 / fps);
        var shift = offsetMs switch
        {
            > 0 => $"adelay=delays={offsetMs}:all=1,",
            < 0 => $"atrim=start={Seconds(-offsetMs / 1000.0)},asetpts=PTS-STARTPTS,",
            _ => "",
        };
        return TestClips.GenerateNow(name,
            $"-f lavfi -i color=c=black:s=320x240:r={Seconds(fps)}:d={Seconds(duration)} " +
            $"-f lavfi -i \"aevalsrc='{beep}':s=48000:d={Seconds(duration + 1)}\" " +
            $"-filter_complex \"[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{frames}'[v];" +
            $"[1:a]{shift}apad,atrim=end={Seconds(duration)}[a]\" " +
            $"-map [v] -map [a] {Encode}");
    }

    /// <summary>The line-up signal (<see cref="SyncSignals.LineUp"/>): a flash and a 40 ms beep every period, the beep offset.</summary>
    public static string LineUp(int fpsNum, int fpsDen, double period, int offsetMs, double duration = 20, bool ts = false)
    {
        var fps = fpsNum / (double)fpsDen;
        var name = string.Create(CultureInfo.InvariantCulture, $"lineup-{fps:0.##}-{period}-{offsetMs}-{duration}.{(ts ? "ts" : "mp4")}");
        return TestClips.GenerateNow(name, SyncSignals.LineUp(fpsNum, fpsDen, period, offsetMs, duration) + (ts ? " -f mpegts" : ""));
    }

    /// <summary>The line-up signal in sync, 25 fps, every second, in an MPEG-TS.</summary>
    public static string LineUpTs(double duration) => LineUp(25, 1, 1.0, 0, duration, ts: true);

    /// <summary>Beep+flash whose audio offset is <paramref name="firstMs"/> before <paramref name="changeAt"/> and <paramref name="secondMs"/> after.</summary>
    public static string BeepFlashChanging(double fps, int firstMs, int secondMs, double changeAt, double duration)
    {
        var name = $"beepflash-change-{fps}-{firstMs}-{secondMs}.mp4";
        var times = EventTimes(fps, duration);
        var frames = string.Join("+", times.Select(t => $"eq(n\\,{(int)Math.Round(t * fps)})"));
        var shifted = times.Select(t => t + (t < changeAt ? firstMs : secondMs) / 1000.0).ToList();
        return TestClips.GenerateNow(name,
            $"-f lavfi -i color=c=black:s=320x240:r={Seconds(fps)}:d={Seconds(duration)} " +
            $"-f lavfi -i \"aevalsrc='{Beeps(shifted, 1 / fps)}':s=48000:d={Seconds(duration)}\" " +
            $"-filter_complex \"[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{frames}'[v]\" " +
            $"-map [v] -map 1:a {Encode}");
    }

    /// <summary>
    /// Edited content: segments of different pictures (moving test patterns, bars, colours), each with
    /// its own sound (tones, noise), cut together at the same points in picture and sound; the audio
    /// is then shifted by <paramref name="offsetMs"/>.
    /// </summary>
    public static string Edited(int offsetMs, double fps = 25, double duration = 18)
    {
        var name = $"edited-{fps}-{offsetMs}.mp4";
        // cut points on the frame grid, irregular
        var cuts = new List<double> { 0 };
        var i = 0;
        while (cuts[^1] < duration)
        {
            cuts.Add(Math.Min(duration, Math.Round((cuts[^1] + 1.1 + Gaps[i] * 0.9) * fps) / fps));
            i++;
        }
        string[] pictures =
        [
            "testsrc2=s=320x240", "smptebars=s=320x240", "color=c=0x3060a0:s=320x240", "testsrc=s=320x240",
            "color=c=0xc08020:s=320x240", "smptehdbars=s=320x240", "rgbtestsrc=s=320x240", "color=c=0x208040:s=320x240",
        ];
        // tones and quieter noises alternate, so every cut changes the sound
        string[] sounds =
        [
            "sine=f=440", "anoisesrc=c=white:a=0.08:seed=1", "sine=f=1200", "anoisesrc=c=pink:a=0.12:seed=2",
            "sine=f=660", "anoisesrc=c=brown:a=0.2:seed=3", "sine=f=2000", "anoisesrc=c=white:a=0.05:seed=4", "sine=f=300",
        ];
        var inputs = new StringBuilder();
        var graph = new StringBuilder();
        var segments = cuts.Count - 1;
        for (var s = 0; s < segments; s++)
        {
            var length = Seconds(cuts[s + 1] - cuts[s]);
            inputs.Append($"-f lavfi -i {pictures[s % pictures.Length]}:r={Seconds(fps)}:d={length} ");
            inputs.Append($"-f lavfi -i {sounds[s % sounds.Length]}:r=48000:d={length} ");
        }
        for (var s = 0; s < segments; s++)
        {
            graph.Append($"[{2 * s}:v]format=yuv420p,setsar=1[v{s}];");
            graph.Append($"[{2 * s + 1}:a]aformat=sample_fmts=fltp:channel_layouts=mono,volume=0.5[a{s}];");
        }
        for (var s = 0; s < segments; s++) graph.Append($"[v{s}][a{s}]");
        graph.Append($"concat=n={segments}:v=1:a=1[v][c];");
        var shift = offsetMs switch
        {
            > 0 => $"adelay=delays={offsetMs}:all=1,",
            < 0 => $"atrim=start={Seconds(-offsetMs / 1000.0)},asetpts=PTS-STARTPTS,",
            _ => "",
        };
        graph.Append($"[c]{shift}apad,atrim=end={Seconds(duration)}[a]");
        return TestClips.GenerateNow(name, $"{inputs}-filter_complex \"{graph}\" -map [v] -map [a] {Encode}");
    }

    /// <summary>No usable events: a still picture with a steady tone, or with silence.</summary>
    public static string Static(bool tone, double duration = 14)
    {
        var name = $"static-{(tone ? "tone" : "silence")}.mp4";
        var audio = tone ? "sine=f=1000:r=48000" : "anullsrc=r=48000:cl=stereo";
        return TestClips.GenerateNow(name, $"-f lavfi -i smptebars=s=320x240:r=25:d={Seconds(duration)} -f lavfi -i {audio}:d={Seconds(duration)} " +
               $"-map 0:v -map 1:a {Encode}");
    }

    /// <summary>
    /// Container-level shift: an existing clip's audio stream re-muxed (stream copy, MPEG-TS) with
    /// <c>-itsoffset</c> so its timestamps start <paramref name="offsetMs"/> later than the video's.
    /// </summary>
    public static string ItsOffset(string source, int offsetMs)
    {
        var name = $"{Path.GetFileNameWithoutExtension(source)}-itsoffset{offsetMs}.ts";
        return TestClips.GenerateNow(name, $"-i \"{source}\" -itsoffset {Seconds(offsetMs / 1000.0)} -i \"{source}\" -map 0:v -map 1:a -c copy");
    }

    /// <summary>Mid-stream timestamp fault on a still picture with a steady tone (<see cref="SyncSignals.AudioTimestampJump"/>).</summary>
    public static string AudioTimestampJump(int shiftMs, double at, double duration = 16) =>
        TestClips.GenerateNow($"static-ptsjump-{shiftMs}.mkv", SyncSignals.AudioTimestampJump(shiftMs, at, duration));

    /// <summary>
    /// Still picture, steady tone (no content evidence), audio in PCM whose timestamps run <paramref name="rate"/>
    /// times the sample clock (a capture whose audio clock is stamped by another clock): they drift
    /// steadily away from the samples while both tracks stay continuous.
    /// </summary>
    public static string AudioTimestampDrift(double rate, double duration)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"static-ptsdrift-{rate}-{duration}.mkv");
        return TestClips.GenerateNow(name, $"-f lavfi -i smptebars=s=320x240:r=25:d={Seconds(duration)} -f lavfi -i sine=f=1000:r=48000:d={Seconds(duration)} " +
               $"-filter_complex \"[1:a]asetpts='PTS*{Seconds(rate)}'[a]\" " +
               "-map 0:v -map [a] -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a pcm_s16le -threads 1");
    }

    /// <summary>HEVC + Opus in Matroska at 30 fps with a freeze (<see cref="SyncSignals.HevcOpusFreeze"/>); null without libx265.</summary>
    public static string? HevcOpusFreeze(double duration = 20) =>
        HasLibx265.Value ? TestClips.GenerateNow("hevc-opus-freeze.mkv", SyncSignals.HevcOpusFreeze(duration)) : null;

    private static readonly Lazy<bool> HasLibx265 = new(() => CorpusGenerator.HasLibx265Async().GetAwaiter().GetResult());

    /// <summary>Still picture and steady tone in an MPEG-TS (no content evidence): the carrier for garbage bursts.</summary>
    public static string StaticTs(double duration = 60) =>
        TestClips.GenerateNow($"static-{duration}.ts", SyncSignals.Static(duration) + " -f mpegts");

    private static readonly object GarbleLock = new();

    /// <summary><paramref name="source"/> (an MPEG-TS) with a garbage burst (<see cref="SyncSignals.GarbageBurst"/>).</summary>
    public static string GarbageBurst(string source, double from, double to, int seed = 5)
    {
        var path = Path.Combine(TestClips.WorkFolder, string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileNameWithoutExtension(source)}-burst-{from:0.###}-{to:0.###}-{seed}.ts"));
        lock (GarbleLock)
            if (!File.Exists(path)) File.WriteAllBytes(path, SyncSignals.GarbageBurst(File.ReadAllBytes(source), from, to, seed));
        return path;
    }

    private const string Encode = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a aac -b:a 128k -threads 1";

    private static string Beeps(IEnumerable<double> times, double length) =>
        "0.5*sin(2*PI*1000*t)*(" + string.Join("+", times.Select(t => $"between(t\\,{Seconds(t)}\\,{Seconds(t + length - 1e-4)})")) + ")";

    private static string Seconds(double s) => s.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>What one clip gave: the defects, and every trustworthy window estimate.</summary>
    public sealed record Result(IReadOnlyList<Defect> Defects, IReadOnlyList<SyncEstimate> Estimates, double TimestampSkew)
    {
        /// <summary>Median of the window estimates, ms; NaN when there was none.</summary>
        public double MedianOffsetMs => Estimates.Count == 0
            ? double.NaN
            : Estimates.Select(e => e.Offset * 1000).Order().ElementAt(Estimates.Count / 2);

        public IReadOnlyList<Defect> Sync => Defects.Where(d => d.Kind == AvSyncDetector.KindName).ToList();
    }

    /// <summary>Runs <paramref name="path"/> through the sync detector alone (one decode thread).</summary>
    public static Result Analyse(string path, AvSyncOptions? options = null)
    {
        var collector = new DefectCollector();
        var estimates = new List<SyncEstimate>();
        var detector = new AvSyncDetector(options ?? new AvSyncOptions(), collector) { EstimateObserved = estimates.Add };
        using var source = MediaSource.Open(path, new MediaOpenOptions { DecodeThreads = 1 });
        new StreamAnalyzer(source, [detector]).RunAsync().GetAwaiter().GetResult();
        return new Result(collector.Ended, estimates, detector.TimestampSkewSeconds);
    }
}
