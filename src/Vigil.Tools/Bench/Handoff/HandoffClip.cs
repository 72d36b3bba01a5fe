using System.Globalization;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Video;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// The hand-off benchmark's source: 720p25 H.264 + AAC in MPEG-TS, generated with the ffmpeg CLI as one continuous
/// encode of whole <see cref="Seconds"/> s periods, each with one of every known defect — black picture, frozen
/// picture, silence — so that "both runs report the same defects" compares something, and the defects expected
/// are known by construction. (One encode rather than a looped short clip: a loop's splice is itself a
/// timestamp gap and a broken reference, which the detectors rightly report.)
/// </summary>
public static class HandoffClip
{
    /// <summary>Length of one period of the pattern, seconds.</summary>
    public const double Seconds = 8;

    /// <summary>Picture size and rate of the clip.</summary>
    public const int Width = 1280, Height = 720, Fps = 25;

    /// <summary>Black picture (a full-frame black box) from 1 s to 2.5 s of every period.</summary>
    public const double BlackFrom = 1, BlackTo = 2.5;

    /// <summary>Frozen picture (the period's frame at 3 s repeated) from 3 s to 5.5 s of every period.</summary>
    public const double FreezeFrom = 3, FreezeTo = 5.5;

    /// <summary>Silence (the tone at volume 0) from 5 s to 7.5 s of every period.</summary>
    public const double SilenceFrom = 5, SilenceTo = 7.5;

    /// <summary>The defect kinds the clip carries once per period, and where in the period each starts.</summary>
    public static IReadOnlyList<(string Kind, double From)> KnownDefects { get; } =
        [(BlackDetector.KindName, BlackFrom), (FreezeDetector.KindName, FreezeFrom), (SilenceDetector.KindName, SilenceFrom)];

    /// <summary>The clip of <paramref name="periods"/> periods in <paramref name="folder"/>, generated there unless it already is.</summary>
    public static async Task<string> EnsureAsync(string folder, int periods, TextWriter log, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(periods, 1);
        Directory.CreateDirectory(folder);
        var seconds = periods * Seconds;
        var clip = Path.Combine(folder, $"handoff-720p25-{seconds:0}s-v2.ts");
        if (File.Exists(clip)) return clip;
        await log.WriteLineAsync($"vigil bench handoff: generating {seconds:0} s of 720p25 H.264 + AAC, every {Seconds:0} s: black {F(BlackFrom)}-{F(BlackTo)} s, " +
                                 $"frozen {F(FreezeFrom)}-{F(FreezeTo)} s, silent {F(SilenceFrom)}-{F(SilenceTo)} s");
        // one freezeframes per period (it freezes one range); drawbox and volume repeat by mod(t, period)
        var video = new System.Text.StringBuilder("[0:v]null[f0]");
        for (var p = 0; p < periods; p++)
        {
            var first = (int)Math.Round((p * Seconds + FreezeFrom) * Fps);
            var last = (int)Math.Round((p * Seconds + FreezeTo) * Fps) - 1;
            video.Append(CultureInfo.InvariantCulture, $";[f{p}]split[a{p}][b{p}];[a{p}][b{p}]freezeframes=first={first}:last={last}:replace={first}[f{p + 1}]");
        }
        video.Append(CultureInfo.InvariantCulture, $";[f{periods}]drawbox=enable='between(mod(t,{F(Seconds)}),{F(BlackFrom)},{F(BlackTo)})':color=black:t=fill[v]");
        var audio = $"[1:a]volume=enable='between(mod(t,{F(Seconds)}),{F(SilenceFrom)},{F(SilenceTo)})':volume=0[s]";
        var partial = clip + ".part.ts";
        await FfmpegCli.RunAsync(
            $"-y -v error -f lavfi -i testsrc2=size={Width}x{Height}:rate={Fps}:duration={F(seconds)} " +
            $"-f lavfi -i sine=frequency=440:sample_rate=48000:duration={F(seconds)} -filter_complex \"{video};{audio}\" " +
            $"-map \"[v]\" -map \"[s]\" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -b:a 128k -f mpegts \"{partial}\"", cancel);
        File.Move(partial, clip, overwrite: true);
        return clip;
    }

    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);
}
