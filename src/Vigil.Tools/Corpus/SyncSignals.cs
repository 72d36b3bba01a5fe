using System.Globalization;

namespace Vigil.Tools.Corpus;

/// <summary>
/// Recipes (ffmpeg CLI arguments: inputs, filters and encoding, without the output file) for the A/V sync
/// clips of the corpus and the tests, with the truth known by construction, and the garbage burst that
/// a swamped receiver sees. Pictures are 320×240, H.264 + AAC unless said otherwise.
/// </summary>
public static class SyncSignals
{
    /// <summary>The frame of the first flash of <see cref="LineUp"/> (0.6 s at 25 fps, 0.5 s at 30, 0.3 s at 50).</summary>
    public const int FirstFlashFrame = 15;

    private const string Encode = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a aac -b:a 128k -threads 1";

    /// <summary>
    /// The standard line-up signal: a white flash (one frame, two at 50 fps: 40 ms) and a 40 ms 1 kHz beep
    /// once every <paramref name="period"/> seconds, locked to the frames as a test generator makes it (at
    /// 29.97 fps a 1 s period is 30 frames, 1.001 s), the first at frame <see cref="FirstFlashFrame"/>, each
    /// beep <paramref name="offsetMs"/> after its flash's frame time (&gt; 0 audio late).
    /// </summary>
    public static string LineUp(int fpsNum, int fpsDen, double period, int offsetMs, double duration)
    {
        var fps = fpsNum / (double)fpsDen;
        var every = (int)Math.Round(period * fps);
        var flashFrames = Math.Max(1, (int)Math.Round(0.040 * fps));
        var flashes = new List<int>();
        for (var n = FirstFlashFrame; n / fps < duration - 0.5; n += every) flashes.Add(n);
        var frames = string.Join("+", flashes.Select(n => $"between(n\\,{n}\\,{n + flashFrames - 1})"));
        var beeps = "0.5*sin(2*PI*1000*t)*(" + string.Join("+", flashes.Select(n => n / fps + offsetMs / 1000.0)
            .Select(t => $"between(t\\,{Seconds(t)}\\,{Seconds(t + 0.04)})")) + ")";
        return $"-f lavfi -i color=c=black:s=320x240:r={fpsNum}/{fpsDen}:d={Seconds(duration)} " +
               $"-f lavfi -i \"aevalsrc='{beeps}':s=48000:d={Seconds(duration)}\" " +
               $"-filter_complex \"[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{frames}'[v]\" " +
               $"-map [v] -map 1:a {Encode}";
    }

    /// <summary>Media time of the first flash of <see cref="LineUp"/>.</summary>
    public static double FirstFlash(int fpsNum, int fpsDen) => FirstFlashFrame * fpsDen / (double)fpsNum;

    /// <summary>
    /// HEVC + Opus in Matroska at 30 fps (timestamps rounded to 1 ms: frames alternate 33/34 ms; Opus starts
    /// with its pre-skip): a moving test pattern frozen from 10 to 13 s, a steady tone, both tracks continuous.
    /// Needs libx265; output Matroska.
    /// </summary>
    public static string HevcOpusFreeze(double duration) =>
        $"-f lavfi -i testsrc2=s=640x360:r=30:d={Seconds(duration)} -f lavfi -i sine=f=440:r=48000:d={Seconds(duration)} " +
        "-filter_complex \"[0:v]split[a][b];[a][b]freezeframes=first=300:last=389:replace=300[v]\" " +
        "-map [v] -map 1:a -c:v libx265 -preset ultrafast -x265-params log-level=error -c:a libopus -b:a 96k -threads 1";

    /// <summary>
    /// Still picture, steady tone (no content evidence); from <paramref name="at"/> on every audio timestamp
    /// is <paramref name="shiftMs"/> later, the samples unchanged. Output Matroska.
    /// </summary>
    public static string AudioTimestampJump(int shiftMs, double at, double duration) =>
        $"-f lavfi -i smptebars=s=320x240:r=25:d={Seconds(duration)} -f lavfi -i sine=f=1000:r=48000:d={Seconds(duration)} " +
        $"-filter_complex \"[1:a]asetpts='PTS+gte(T\\,{Seconds(at)})*{Seconds(shiftMs / 1000.0)}/TB'[a]\" " +
        $"-map 0:v -map [a] {Encode}";

    /// <summary>Still picture and steady tone (no content evidence): the carrier of a garbage burst.</summary>
    public static string Static(double duration) =>
        $"-f lavfi -i smptebars=s=320x240:r=25:d={Seconds(duration)} -f lavfi -i sine=f=1000:r=48000:d={Seconds(duration)} -map 0:v -map 1:a {Encode}";

    /// <summary>
    /// An MPEG-TS with the bytes from <paramref name="from"/> to <paramref name="to"/> (fractions of the file,
    /// on packet boundaries) replaced by seeded random bytes: a burst of garbage on the line, as a receiver
    /// sees when a feed is swamped; the media in between is lost on both tracks.
    /// </summary>
    public static byte[] GarbageBurst(byte[] ts, double from, double to, int seed)
    {
        var bytes = ts.ToArray();
        var start = (int)(bytes.Length * from) / TsDamage.PacketSize * TsDamage.PacketSize;
        var end = (int)(bytes.Length * to) / TsDamage.PacketSize * TsDamage.PacketSize;
        new Random(seed).NextBytes(bytes.AsSpan(start, end - start));
        return bytes;
    }

    /// <summary>Whether an offset is outside av.sync's default tolerance (audio early &gt; 45 ms or late &gt; 125 ms).</summary>
    public static bool OutOfTolerance(int offsetMs) =>
        offsetMs > Defaults.LateToleranceMs || -offsetMs > Defaults.EarlyToleranceMs;

    private static readonly Vigil.Detectors.Sync.AvSyncOptions Defaults = new();

    private static string Seconds(double s) => s.ToString("0.######", CultureInfo.InvariantCulture);
}
