using System.Globalization;

namespace Vigil.Tools.Corpus;

/// <summary>
/// Generates the labelled video corpus with the ffmpeg CLI: 640×360 (two traps 320×240), 25 fps, 6 s clips whose ground
/// truth is known by construction — H.264 transport streams damaged at known packets (truth: frames
/// that decode below 35 dB PSNR against the clean decode), stretches encoded starved in MPEG-2, H.264
/// and HEVC (truth: those seconds), and trap clips that must raise nothing (fast motion, scene cuts,
/// flashes, flat graphics on the macroblock grid, testsrc2's small flat squares on the 8-px grid, texture,
/// grain on flat colours, clean MPEG-2 whose I-frames show faint steps, HEVC at ordinary quality); then 20 s
/// A/V sync clips (the line-up signal at offsets, periods and frame rates, those within tolerance as traps)
/// and timestamp traps (HEVC + Opus in Matroska with a freeze, one track's timestamps jumping, garbage
/// bursts on a still picture and on a line-up in sync); and, where the real captures are on this machine,
/// a clean real broadcast whose demuxer flags hundreds of packets corrupt (test-072).
/// </summary>
public sealed class CorpusGenerator(string directory)
{
    public const double ClipSeconds = 6;
    /// <summary>The starved stretch of every blockiness clip.</summary>
    public const double StarvedStart = 2, StarvedEnd = 4;

    private const string Size = "640x360";
    private const string TestSource = "testsrc2=size=640x360:rate=25:duration=6";
    private const string Mandelbrot = "mandelbrot=size=640x360:rate=25:maxiter=300,trim=duration=6";
    private const string H264 = "-c:v libx264 -preset veryfast -pix_fmt yuv420p";

    /// <summary>Whether the installed ffmpeg has libx265 (the HEVC blockiness clip needs it).</summary>
    public static async Task<bool> HasLibx265Async(CancellationToken cancel = default) =>
        await FfmpegCli.HasEncoderAsync("libx265", "-x265-params log-level=error", cancel);

    /// <summary>Generates every clip (skipping ones already there) and computes their ground truth.</summary>
    public async Task<IReadOnlyList<CorpusClip>> GenerateAsync(CancellationToken cancel = default)
    {
        Directory.CreateDirectory(directory);
        var clips = new List<CorpusClip>
        {
            await DamagedAsync("corrupt-drop", TestSource, "-g 50 -bf 2 -crf 20", "7 TS packets dropped in frames 30 and 85 (continuity errors)",
                d => d.DropPackets(30, 3, 7).DropPackets(85, 3, 7), cancel),
            await DamagedAsync("corrupt-garble", Mandelbrot, "-g 50 -bf 2 -crf 23", "4 TS packet payloads garbled in frames 40 and 110 (no continuity error)",
                d => d.GarblePackets(40, 2, 4, 1).GarblePackets(110, 2, 4, 7), cancel),
            await DamagedAsync("corrupt-framedrop", $"{TestSource},scroll=horizontal=0.004", "-g 50 -bf 0 -crf 20", "frames 30 and 80 dropped whole (only a timestamp gap)",
                d => d.DropFrame(30).DropFrame(80), cancel),
            // no key frames: a column of intra blocks sweeps the picture every 50 frames and heals it
            await DamagedAsync("corrupt-intra-refresh", TestSource, "-g 50 -bf 0 -crf 20 -intra-refresh 1",
                "7 TS packets dropped in frames 30 and 100 of an intra-refresh stream (no key frames)",
                d => d.DropPackets(30, 3, 7).DropPackets(100, 3, 7), cancel),
            await StarvedAsync("block-mpeg2", "-c:v mpeg2video -g 12 -bf 2 -q:v 3", "-c:v mpeg2video -g 12 -bf 2 -q:v 31", "MPEG-2, q 3 / 31 / 3", cancel),
            await StarvedAsync("block-h264", $"{H264} -g 50 -crf 20", $"{H264} -g 50 -qp 51", "H.264, crf 20 / qp 51 (deblocked) / crf 20", cancel),
        };
        if (await HasLibx265Async(cancel))
        {
            clips.Add(await StarvedAsync("block-hevc", "-c:v libx265 -preset ultrafast -g 50 -crf 22 -x265-params log-level=error -pix_fmt yuv420p",
                "-c:v libx265 -preset ultrafast -g 50 -qp 51 -x265-params log-level=error -pix_fmt yuv420p", "HEVC, crf 22 / qp 51 / crf 22", cancel));
            // Main 10, as HEVC is broadcast: the luma is rounded to 8 bits for the analysis and the block grid
            clips.Add(await StarvedAsync("block-hevc10", "-c:v libx265 -preset ultrafast -g 50 -crf 22 -x265-params log-level=error -pix_fmt yuv420p10le",
                "-c:v libx265 -preset ultrafast -g 50 -qp 51 -x265-params log-level=error -pix_fmt yuv420p10le", "HEVC Main 10, crf 22 / qp 51 / crf 22", cancel));
        }

        clips.Add(await TrapAsync("trap-motion", $"-f lavfi -i {TestSource},scroll=horizontal=0.03:vertical=0.02", $"{H264} -g 50 -crf 20",
            "fast pan over testsrc2", cancel));
        clips.Add(await TrapAsync("trap-cuts",
            $"-f lavfi -i {TestSource} -f lavfi -i {Mandelbrot} -f lavfi -i smptehdbars=size={Size}:rate=25:duration=6 " +
            "-filter_complex \"[0][1]overlay=enable='between(mod(t,1.5),0.5,1)'[a];[a][2]overlay=enable='gte(mod(t,1.5),1)'\"",
            $"{H264} -g 50 -crf 20", "hard cuts every 0.5 s between three sources", cancel));
        clips.Add(await TrapAsync("trap-flashes",
            $"-f lavfi -i {TestSource},drawbox=c=white:t=fill:enable='lt(mod(t,1),0.12)',drawbox=w=iw/2:h=ih:c=white:t=fill:enable='between(mod(t,1),0.5,0.56)'",
            $"{H264} -g 50 -crf 20", "full-frame and half-frame white flashes", cancel));
        clips.Add(await TrapAsync("trap-graphics",
            $"-f lavfi -i color=c=0x203050:size={Size}:rate=25:duration=6,drawgrid=w=80:h=80:t=2:c=gray," +
            "drawbox=x=64:y=48:w=192:h=96:c=0xE0C020:t=fill,drawbox=x=320:y=160:w=256:h=144:c=0x30A040:t=fill," +
            "drawbox=x='mod(floor(t*10)*16\\,480)':y=272:w=96:h=48:c=white:t=fill",
            $"{H264} -g 50 -crf 20", "flat graphics with edges on the macroblock grid, a box jumping 16 px", cancel));
        // testsrc2's small flat squares and dotted path lie on the 8-px grid and step both edges of their blocks;
        // at 320x240 they are over 1.5 % of the blocks. Ultrafast (no trellis, weaker analysis) is x264's worst case.
        clips.Add(await TrapAsync("trap-squares-small", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6",
            "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50", "testsrc2 at 320x240, ultrafast: small flat squares on the 8-px grid", cancel));
        clips.Add(await TrapAsync("trap-squares-small-veryfast", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6",
            $"{H264} -g 50", "testsrc2 at 320x240, veryfast", cancel));
        clips.Add(await TrapAsync("trap-squares", $"-f lavfi -i {TestSource}",
            "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50", "testsrc2, ultrafast", cancel));
        clips.Add(await TrapAsync("trap-texture", $"-f lavfi -i {Mandelbrot},noise=alls=12:allf=t", $"{H264} -g 50 -crf 20",
            "fractal zoom with grain", cancel));
        clips.Add(await TrapAsync("trap-grain", $"-f lavfi -i {TestSource},noise=alls=6:allf=t", $"{H264} -g 50 -crf 23",
            "flat colours with grain at ordinary quality: x264 mottles them faintly", cancel));
        if (await HasLibx265Async(cancel))
        {
            const string grainThenFractal =
                $"-f lavfi -i {TestSource},noise=alls=6:allf=t -f lavfi -i {Mandelbrot},noise=alls=8:allf=t -filter_complex \"[0][1]overlay=enable='gte(t,3)'\"";
            clips.Add(await TrapAsync("trap-hevc", grainThenFractal,
                "-c:v libx265 -preset ultrafast -g 50 -crf 28 -x265-params log-level=error -pix_fmt yuv420p",
                "HEVC at ordinary quality: flat colours with grain, then a grainy fractal", cancel));
            clips.Add(await TrapAsync("trap-hevc10", grainThenFractal,
                "-c:v libx265 -preset ultrafast -g 50 -crf 28 -x265-params log-level=error -pix_fmt yuv420p10le",
                "the same in HEVC Main 10", cancel));
        }
        clips.Add(await TrapAsync("trap-mpeg2", $"-f lavfi -i {Mandelbrot}", "-c:v mpeg2video -g 12 -bf 2 -q:v 3",
            "clean MPEG-2 (q 3): faint steps on I-frames only", cancel));
        if (CaptureFiles.Find("test-072.ts") is { } real)
            clips.Add(new CorpusClip("trap-real-072", real, ClipRole.Trap,
                "real broadcast (TSDuck: no continuity error), 293 packets flagged corrupt on PES length mismatch", [], new HashSet<long>()));
        clips.AddRange(await SyncAsync(cancel));
        return clips;
    }

    private async Task<CorpusClip> DamagedAsync(string name, string source, string encode, string description,
        Action<TsDamage> damage, CancellationToken cancel)
    {
        var clean = Path.Combine(directory, name + ".clean.ts");
        var path = Path.Combine(directory, name + ".ts");
        if (!File.Exists(path))
        {
            await RunAsync($"-f lavfi -i {source} {H264} {encode} -f mpegts \"{clean}\"", cancel);
            var damager = new TsDamage(await File.ReadAllBytesAsync(clean, cancel));
            damage(damager);
            await File.WriteAllBytesAsync(path, damager.Build(), cancel);
        }
        return new CorpusClip(name, path, ClipRole.Corruption, description, [], GroundTruth.DamagedFrames(clean, path));
    }

    /// <summary>Good / starved / good, two seconds each, encoded apart and joined by the concat demuxer.</summary>
    private async Task<CorpusClip> StarvedAsync(string name, string good, string starved, string description, CancellationToken cancel)
    {
        var path = Path.Combine(directory, name + ".ts");
        if (!File.Exists(path))
        {
            var list = Path.Combine(directory, name + ".list");
            var lines = new List<string>();
            string[] settings = [good, starved, good];
            for (var i = 0; i < 3; i++)
            {
                var part = Path.Combine(directory, $"{name}.part{i}.ts");
                var start = (i * 2).ToString(CultureInfo.InvariantCulture);
                await RunAsync($"-f lavfi -i {Mandelbrot} -vf trim=start={start}:duration=2,setpts=PTS-STARTPTS,format=yuv420p " +
                               $"{settings[i]} -f mpegts \"{part}\"", cancel);
                lines.Add($"file '{Path.GetFileName(part)}'");
            }
            await File.WriteAllLinesAsync(list, lines, cancel);
            await RunAsync($"-f concat -safe 0 -i \"{list}\" -c copy -f mpegts \"{path}\"", cancel);
        }
        return new CorpusClip(name, path, ClipRole.Blockiness, description, [(StarvedStart, StarvedEnd)], new HashSet<long>());
    }

    private async Task<CorpusClip> TrapAsync(string name, string input, string encode, string description, CancellationToken cancel)
    {
        var path = Path.Combine(directory, name + ".ts");
        if (!File.Exists(path)) await RunAsync($"{input} -t 6 {encode} -f mpegts \"{path}\"", cancel);
        return new CorpusClip(name, path, ClipRole.Trap, description, [], new HashSet<long>());
    }

    /// <summary>The line-up signals (fps as num/den, period s, audio offset ms); offsets within tolerance are traps.</summary>
    private static readonly (int Num, int Den, double Period, int OffsetMs)[] LineUps =
    [
        (25, 1, 1, 200), (25, 1, 1, -120), (30, 1, 1, -80), (25, 1, 1, -200), (30000, 1001, 1, 300), (50, 1, 1, 180),
        (50, 1, 2, -250), (30, 1, 2, 150), (30000, 1001, 2, -100), (25, 1, 2, -60),
        (25, 1, 1, 0), (30, 1, 1, 100), (30000, 1001, 1, -30), (50, 1, 2, 120), (25, 1, 2, -40),
    ];

    /// <summary>Seconds of every sync clip.</summary>
    public const double SyncSeconds = 20;

    private async Task<IReadOnlyList<CorpusClip>> SyncAsync(CancellationToken cancel)
    {
        var clips = new List<CorpusClip>();
        foreach (var (num, den, period, offset) in LineUps)
        {
            var fps = (num / (double)den).ToString("0.##", CultureInfo.InvariantCulture);
            var name = string.Create(CultureInfo.InvariantCulture, $"{(SyncSignals.OutOfTolerance(offset) ? "sync" : "trap-sync")}-{fps}-{period}s-{offset}");
            var path = Path.Combine(directory, name + ".mp4");
            if (!File.Exists(path)) await RunAsync($"{SyncSignals.LineUp(num, den, period, offset, SyncSeconds)} \"{path}\"", cancel);
            clips.Add(new CorpusClip(name, path, SyncSignals.OutOfTolerance(offset) ? ClipRole.Sync : ClipRole.Trap,
                string.Create(CultureInfo.InvariantCulture, $"line-up (flash + 40 ms beep every {period} s) at {fps} fps, audio {offset:+0;-0;0} ms"), [], new HashSet<long>())
            {
                SyncOffsetMs = offset,
                SyncFrom = SyncSignals.FirstFlash(num, den),
            });
        }

        if (await HasLibx265Async(cancel))
            clips.Add(await SyncTrapAsync("trap-ts-hevc-opus-freeze", ".mkv", SyncSignals.HevcOpusFreeze(SyncSeconds),
                "HEVC + Opus in Matroska, 30 fps (1 ms timestamps), a 3 s freeze, both tracks continuous", cancel));
        clips.Add(await SyncTrapAsync("trap-ts-audio-jump", ".mkv", SyncSignals.AudioTimestampJump(300, 4, SyncSeconds),
            "still picture and tone, audio timestamps 300 ms later from 4 s (samples unchanged)", cancel));
        var still = await SyncTrapAsync("trap-ts-still", ".ts", SyncSignals.Static(60) + " -f mpegts", "still picture and tone in MPEG-TS", cancel);
        clips.Add(Burst(still, "trap-ts-still-burst", "still picture and tone, 5 s of random bytes in place of the stream at 20 s"));
        var lineUp = await SyncTrapAsync("trap-ts-lineup", ".ts", SyncSignals.LineUp(25, 1, 1, 0, 60) + " -f mpegts", "line-up in sync, MPEG-TS", cancel);
        clips.Add(Burst(lineUp, "trap-ts-lineup-burst", "line-up in sync, 5 s of random bytes in place of the stream at 20 s") with { SyncOffsetMs = 0 });
        return clips;
    }

    private async Task<CorpusClip> SyncTrapAsync(string name, string extension, string recipe, string description, CancellationToken cancel)
    {
        var path = Path.Combine(directory, name + extension);
        if (!File.Exists(path)) await RunAsync($"{recipe} \"{path}\"", cancel);
        return new CorpusClip(name, path, ClipRole.Trap, description, [], new HashSet<long>());
    }

    private CorpusClip Burst(CorpusClip carrier, string name, string description)
    {
        var path = Path.Combine(directory, name + ".ts");
        if (!File.Exists(path)) File.WriteAllBytes(path, SyncSignals.GarbageBurst(File.ReadAllBytes(carrier.Path), 20 / 60.0, 25 / 60.0, seed: 5));
        return carrier with { Name = name, Path = path, Description = description, OnlyKinds = new HashSet<string> { Vigil.Detectors.Sync.AvSyncDetector.KindName } };
    }

    private static Task RunAsync(string arguments, CancellationToken cancel) => FfmpegCli.RunAsync("-y -v error " + arguments, cancel);
}
