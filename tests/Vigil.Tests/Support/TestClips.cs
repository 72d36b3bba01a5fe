using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Vigil.Tools;

namespace Vigil.Tests.Support;

/// <summary>
/// Media clips generated with the ffmpeg CLI at test time, with ground truth known by construction.
/// Each recipe is generated once per test run (concurrent requests share one ffmpeg process) into a
/// per-run temp folder that is removed when the test process exits.
/// Times in recipes are multiples of the 25 fps frame period (0.04 s), so that "black from 2.0 s"
/// really starts on a frame.
/// </summary>
public static class TestClips
{
    /// <summary>Video clips are 25 fps: one frame lasts this long.</summary>
    public const double Frame = 0.04;

    private const string Video320 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50";
    private const string Pcm = "-c:a pcm_s16le";

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Cache = new();
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), $"vigil-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return folder;
    });

    /// <summary>The per-run folder clips and derived files are written to.</summary>
    public static string WorkFolder => Folder.Value;

    // ---- video (320x240 unless resolution matters) ----

    /// <summary>testsrc2 (moving colour pattern) for 4 s: neither black nor frozen.</summary>
    public static Task<string> Content() => Generate("content.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 {Video320}");

    /// <summary>testsrc2 for 6 s with the whole picture black from 2.0 to 4.0 s.</summary>
    public static Task<string> Black() => Generate("black.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -vf \"drawbox=enable='gte(t,2)*lt(t,4)':color=black:t=fill\" {Video320}");

    /// <summary>
    /// 1280x720 testsrc2 for 4 s, black from 1.0 to 3.6 s with a white box (a channel bug) of 288x160 =
    /// 5.0 % of the frame in the top-right corner. The bug is far above blackdetect's 2 % allowance.
    /// </summary>
    public static Task<string> BlackWithCornerLogo() => Generate("black-logo-720.mp4",
        "-f lavfi -i testsrc2=size=1280x720:rate=25:duration=4 -vf \"" +
        "drawbox=enable='gte(t,1)*lt(t,3.6)':color=black:t=fill," +
        "drawbox=enable='gte(t,1)*lt(t,3.6)':x=960:y=32:w=288:h=160:color=white:t=fill\" " +
        "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50");

    /// <summary>
    /// testsrc2 for 4 s, black from 1.0 to 3.6 s except a white 64x32 box (2.7 % of the frame) in the
    /// middle of the picture: a title card, which is content, not black.
    /// </summary>
    public static Task<string> TitleCardOnBlack() => Generate("title-card.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -vf \"" +
        "drawbox=enable='gte(t,1)*lt(t,3.6)':color=black:t=fill," +
        $"drawbox=enable='gte(t,1)*lt(t,3.6)':x=128:y=104:w=64:h=32:color=white:t=fill\" {Video320}");

    /// <summary>
    /// testsrc2 for 4 s with luma squeezed into 16..36 (every pixel at or below blackdetect's Y ≤ 37):
    /// a dark scene that still shows its detail (edges, text, moving shapes). Not black.
    /// </summary>
    public static Task<string> DarkDetailed() => Generate("dark-detailed.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -vf \"lutyuv=y='16+(val-16)*0.09'\" {Video320}");

    /// <summary>testsrc2 for 6 s with frames 50..124 replaced by frame 50: frozen from 2.0 to 5.0 s.</summary>
    public static Task<string> Freeze() => Generate("freeze.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -filter_complex \"split[s][r];[s][r]freezeframes=first=50:last=124:replace=50\" {Video320}");

    /// <summary>
    /// The <see cref="Freeze"/> clip with fresh per-frame grain (noise=alls=20:allf=t) added after the
    /// freeze: still frozen from 2.0 to 5.0 s, but no two frames are identical.
    /// </summary>
    public static Task<string> FreezeWithGrain() => Generate("freeze-grain.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -filter_complex \"split[s][r];[s][r]freezeframes=first=50:last=124:replace=50,noise=alls=20:allf=t\" {Video320}");

    /// <summary>
    /// 1280x720 SMPTE bars (a static slate) for 5 s with a small 16x16 white box moving 4 px per frame
    /// in the top-right corner, like a running clock: not frozen. (A moving box rather than drawtext so
    /// the recipe needs no fonts.)
    /// </summary>
    public static Task<string> SlateWithMovingClock() => Generate("slate-clock-720.mp4",
        "-f lavfi -i smptebars=size=1280x720:rate=25:duration=5 -f lavfi -i color=c=white:size=16x16:rate=25 " +
        "-filter_complex \"[0:v][1:v]overlay=x='1100+mod(n*4\\,120)':y=40:shortest=1\" " +
        "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50");

    /// <summary>
    /// A cellular automaton (rule 110) scrolling up one pixel per frame for 4 s: fine, uniform texture in
    /// constant motion. Its 16×16 cell averages barely change from frame to frame; the picture does.
    /// </summary>
    public static Task<string> ScrollingTexture() => Generate("scrolling-texture.mp4",
        $"-f lavfi -i cellauto=size=320x240:rate=25:rule=110 -t 4 {Video320}");

    /// <summary>A static sinusoidal texture (mid contrast) panned one pixel per frame for 4 s, like a slow pan over grass.</summary>
    public static Task<string> PanningTexture() => Generate("panning-texture.mp4",
        "-f lavfi -i \"nullsrc=size=480x240:rate=25:duration=4,geq=lum='128+40*sin(X/3)*cos(Y/5)':cb=128:cr=128," +
        $"crop=320:240:x='n'\" {Video320}");

    // ---- audio (PCM WAV, 48 kHz: exact zeros stay exact) ----

    /// <summary>Stereo 1 kHz tone at −20 dBFS for 7 s, both channels silent (digital zero) from 2.0 to 4.5 s.</summary>
    public static Task<string> Silence() => Generate("silence.wav",
        $"-f lavfi -i \"aevalsrc='if(gte(t,2)*lt(t,4.5),0,0.1*sin(2*PI*1000*t))':s=48000:d=7:c=stereo\" {Pcm}");

    /// <summary>Stereo 440 Hz / 660 Hz tones for 7 s; the right channel (1) is dead from 2.0 to 5.0 s.</summary>
    public static Task<string> DeadRightChannel() => Generate("dead-right.wav",
        $"-f lavfi -i \"aevalsrc='0.1*sin(2*PI*440*t)|if(gte(t,2)*lt(t,5),0,0.1*sin(2*PI*660*t))':s=48000:d=7\" {Pcm}");

    /// <summary>A 1 kHz sine with −50 dBFS peak (−53 dBFS RMS) for 5 s: quiet, but present.</summary>
    public static Task<string> QuietSine() => Generate("quiet-sine.wav",
        $"-f lavfi -i \"aevalsrc='0.00316*sin(2*PI*1000*t)':s=48000:d=5\" {Pcm}");

    /// <summary>White noise at −50 dBFS RMS (uniform ±0.00548) for 5 s: a quiet hiss, present.</summary>
    public static Task<string> QuietNoise() => Generate("quiet-noise.wav",
        $"-f lavfi -i \"anoisesrc=c=white:a=0.00548:r=48000:d=5:seed=7\" {Pcm}");

    /// <summary>1 kHz tone for 7 s, silent from 1.0 to 5.0 s except a 1 ms full-scale click at 2.5 s.</summary>
    public static Task<string> ClickInSilence() => Generate("click-in-silence.wav",
        $"-f lavfi -i \"aevalsrc='if(gte(t,2.5)*lt(t,2.501),0.8,if(gte(t,1)*lt(t,5),0,0.1*sin(2*PI*1000*t)))':s=48000:d=7\" {Pcm}");

    // ---- containers for bad-input tests ----

    /// <summary>6 s of testsrc2 + AAC tone in MP4 (moov at the end, as ffmpeg writes it).</summary>
    public static Task<string> Mp4WithAudio() => Generate("av.mp4",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 {Video320} -c:a aac -b:a 64k");

    /// <summary>The same content as <see cref="Mp4WithAudio"/> in MPEG-TS.</summary>
    public static Task<string> TsWithAudio() => Generate("av.ts",
        $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 {Video320} -c:a aac -b:a 64k -f mpegts");

    /// <summary>
    /// 6 s of testsrc2 with three tones (3.0: left, right, centre); right and centre fall silent together
    /// at 2.0 s while left plays on: two per-channel silences that start at the same instant.
    /// </summary>
    public static Task<string> TwoChannelsDieTogether() => Generate("two-dead.mkv",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 " +
        "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 -f lavfi -i sine=frequency=550:sample_rate=48000:duration=6 " +
        "-f lavfi -i sine=frequency=660:sample_rate=48000:duration=6 " +
        "-filter_complex \"[2:a]volume=enable='gte(t,2)':volume=0[r];[3:a]volume=enable='gte(t,2)':volume=0[c];" +
        "[1:a][r][c]join=inputs=3:channel_layout=3.0:map=0.0-FL|1.0-FR|2.0-FC[a]\" -map 0:v -map [a] " +
        $"{Video320} {Pcm}");

    /// <summary>The first half of <paramref name="clip"/>'s bytes, written next to it.</summary>
    public static Task<string> FirstHalf(Task<string> clip, string name) => Derive(name, async path =>
    {
        var bytes = await File.ReadAllBytesAsync(await clip);
        await File.WriteAllBytesAsync(path, bytes.AsMemory(0, bytes.Length / 2));
    });

    /// <summary>64 KiB of seeded random bytes named like a video file.</summary>
    public static Task<string> RandomBytes() => Derive("random.mp4", path =>
    {
        var bytes = new byte[64 * 1024];
        new Random(20240601).NextBytes(bytes);
        return File.WriteAllBytesAsync(path, bytes);
    });

    /// <summary>Generates <paramref name="name"/> with <c>ffmpeg -y -v error {inputAndOutputOptions} OUT</c>, once per run.</summary>
    public static Task<string> Generate(string name, string inputAndOutputOptions) =>
        Derive(name, path => FfmpegCli.RunAsync($"-y -v error -nostdin {inputAndOutputOptions} \"{path}\""), key: inputAndOutputOptions);

    /// <summary>
    /// <see cref="Generate"/> for synchronous tests and helpers: the same recipe cache, blocking until the clip exists.
    /// </summary>
    public static string GenerateNow(string name, string inputAndOutputOptions) =>
        Generate(name, inputAndOutputOptions).GetAwaiter().GetResult();

    private static Task<string> Derive(string name, Func<string, Task> make, string? key = null)
    {
        var id = name + "|" + (key ?? "");
        return Cache.GetOrAdd(id, _ => new Lazy<Task<string>>(async () =>
        {
            // the hash keeps two recipes that share a file name apart
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..8];
            var path = Path.Combine(Folder.Value, $"{Path.GetFileNameWithoutExtension(name)}-{hash}{Path.GetExtension(name)}");
            // ConfigureAwait(false) throughout: GenerateNow blocks on this task, so it must never need the caller's context
            await make(path).ConfigureAwait(false);
            return path;
        })).Value;
    }
}
