using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tools.Bench;

/// <summary>CPU seconds of one side of the audio benchmark (best of the repeats) and what it measured.</summary>
public sealed record AudioBenchSide(double CpuSeconds, double WallSeconds, double IntegratedLufs, double TruePeakDbtp);

/// <summary>
/// Vigil's audio analysis against <c>ffmpeg -af ebur128=peak=true,silencedetect,astats</c> on the same input.
/// Both sides decode the same file with the same libavcodec; <see cref="DecodeOnlyCpuSeconds"/> is FFmpeg decoding
/// alone, the floor under both.
/// </summary>
public sealed record AudioBenchResult(double MediaSeconds, AudioBenchSide Vigil, AudioBenchSide Ffmpeg, double DecodeOnlyCpuSeconds)
{
    /// <summary>How many times less CPU Vigil spends than the FFmpeg chain.</summary>
    public double Ratio => Ffmpeg.CpuSeconds / Vigil.CpuSeconds;

    /// <summary>Vigil's CPU seconds per hour of stream.</summary>
    public double VigilCpuPerStreamHour => Vigil.CpuSeconds / MediaSeconds * 3600;

    /// <summary>The FFmpeg chain's CPU seconds per hour of stream.</summary>
    public double FfmpegCpuPerStreamHour => Ffmpeg.CpuSeconds / MediaSeconds * 3600;

    public double DecodeOnlyCpuPerStreamHour => DecodeOnlyCpuSeconds / MediaSeconds * 3600;
}

/// <summary>
/// The audio section of <c>vigil bench</c>: generates programme-like stereo 48 kHz AAC (tones, pink noise,
/// level changes and pauses), then times, in this process and in the same run, Vigil's whole audio analysis
/// (decode, <c>audio.silence</c>, <c>audio.loudness</c>, <c>audio.clipping</c> and the summary's meter with
/// true peak) and the FFmpeg filter chain. CPU time comes from getrusage (self for Vigil, children for
/// FFmpeg), so other load on the machine slows the wall clock but not the comparison; each side is
/// run <c>repeats</c> times, interleaved, and the best kept.
/// </summary>
public static partial class AudioBench
{
    public const string FfmpegChain = "ebur128=peak=true,silencedetect,astats";

    /// <param name="workDir">Where the generated input is kept (and reused by later runs).</param>
    /// <param name="log">Progress and the result line.</param>
    /// <param name="cancel">Stops the run.</param>
    /// <param name="seconds">Length of the generated input.</param>
    /// <param name="repeats">Runs of each side; the least CPU of each is kept.</param>
    /// <param name="input">An existing file to time instead of the generated programme (its length is probed).</param>
    public static async Task<AudioBenchResult> RunAsync(string workDir, TextWriter log, CancellationToken cancel,
        double seconds = 600, int repeats = 2, string? input = null)
    {
        Directory.CreateDirectory(workDir);
        if (input is not null)
        {
            using var probe = MediaSource.Open(input, new MediaOpenOptions { Video = false });
            seconds = probe.Info.Duration ?? throw new InvalidOperationException($"{input}: unknown duration");
        }
        input ??= Path.Combine(workDir, $"audio-programme-{seconds:0}s.m4a");
        if (!File.Exists(input))
        {
            await log.WriteLineAsync($"audio: generating {seconds:0} s of stereo 48 kHz AAC programme…");
            // tones and pink noise whose level drifts over ±10 dB, a 3 s pause every 100 s
            var generate = $"-hide_banner -loglevel error -y -f lavfi -i \"sine=f=220:r=48000:d={Fmt(seconds)}\" " +
                           $"-f lavfi -i \"anoisesrc=c=pink:a=0.15:r=48000:d={Fmt(seconds)}\" -f lavfi -i \"sine=f=1250:r=48000:d={Fmt(seconds)}\" " +
                           "-filter_complex \"[0][1][2]amix=inputs=3,volume=2,pan=stereo|c0=c0+0.3*c1|c1=0.8*c0+0.5*c1," +
                           "volume='(0.5+0.4*sin(2*PI*t/37))*(1-lt(mod(t\\,100)\\,3))':eval=frame\" -c:a aac -b:a 128k ";
            await FfmpegCli.RunAsync($"{generate}\"{input}.tmp.m4a\"", cancel);
            File.Move($"{input}.tmp.m4a", input, overwrite: true);
        }

        AudioBenchSide? vigil = null, ffmpeg = null;
        var decodeOnly = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var v = await RunVigilAsync(input, cancel);
            var f = await RunFfmpegAsync(input, FfmpegChain, cancel);
            var d = await RunFfmpegAsync(input, null, cancel);
            await log.WriteLineAsync($"audio: run {i + 1}: vigil {v.CpuSeconds:0.00} s CPU, ffmpeg {f.CpuSeconds:0.00} s CPU (decode alone {d.CpuSeconds:0.00} s)");
            if (vigil is null || v.CpuSeconds < vigil.CpuSeconds) vigil = v;
            if (ffmpeg is null || f.CpuSeconds < ffmpeg.CpuSeconds) ffmpeg = f;
            decodeOnly = Math.Min(decodeOnly, d.CpuSeconds);
        }
        var result = new AudioBenchResult(seconds, vigil!, ffmpeg!, decodeOnly);
        await log.WriteLineAsync(
            $"audio: {seconds / 60:0.#} min of {Path.GetFileName(input)} — vigil {result.Vigil.CpuSeconds:0.00} s CPU ({result.VigilCpuPerStreamHour:0.0} s per stream-hour), " +
            $"ffmpeg {FfmpegChain} {result.Ffmpeg.CpuSeconds:0.00} s ({result.FfmpegCpuPerStreamHour:0.0} s/h): {result.Ratio:0.00}× less CPU; " +
            $"decode alone {result.DecodeOnlyCpuSeconds:0.00} s; integrated {result.Vigil.IntegratedLufs:0.00} vs {result.Ffmpeg.IntegratedLufs:0.0} LUFS, " +
            $"true peak {result.Vigil.TruePeakDbtp:0.00} vs {result.Ffmpeg.TruePeakDbtp:0.0} dBTP");
        return result;
    }

    private static async Task<AudioBenchSide> RunVigilAsync(string input, CancellationToken cancel)
    {
        var cpu = CpuSeconds(Self);
        var wall = Stopwatch.StartNew();
        using var source = MediaSource.Open(input, new MediaOpenOptions { Video = false });
        var sink = new DefectCollector();
        var detectors = DetectorCatalog.Create(DetectorCatalog.Select("audio"), new DetectorContext(source.Info, sink, DetectorSettings.Empty));
        var summary = await new StreamAnalyzer(source, detectors).RunAsync(cancel);
        var loudness = summary.Loudness ?? throw new InvalidOperationException("no loudness measured");
        return new AudioBenchSide(CpuSeconds(Self) - cpu, wall.Elapsed.TotalSeconds, loudness.IntegratedLufs, loudness.TruePeakDbtp);
    }

    private static async Task<AudioBenchSide> RunFfmpegAsync(string input, string? filters, CancellationToken cancel)
    {
        var arguments = $"-hide_banner -nostats -i \"{input}\" {(filters is null ? "" : $"-af {filters} ")}-f null -";
        var cpu = CpuSeconds(Children);
        var wall = Stopwatch.StartNew();
        var text = await FfmpegCli.RunAsync(arguments, cancel);
        var seconds = wall.Elapsed.TotalSeconds;
        var cpuSeconds = CpuSeconds(Children) - cpu; // counted once the child has been waited for
        if (filters is null) return new AudioBenchSide(cpuSeconds, seconds, double.NaN, double.NaN);
        var summary = text[text.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        return new AudioBenchSide(cpuSeconds, seconds, Number(IntegratedPattern(), summary), Number(PeakPattern(), summary));
    }

    private static double Number(Regex pattern, string text) =>
        pattern.Match(text) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;

    [GeneratedRegex(@"I:\s+(-?[\d.]+) LUFS")]
    private static partial Regex IntegratedPattern();

    [GeneratedRegex(@"True peak:\s+Peak:\s+(-?[\d.]+) dBFS")]
    private static partial Regex PeakPattern();

    private static string Fmt(double value) => value.ToString(CultureInfo.InvariantCulture);

    private const int Self = ProcessCpu.Self, Children = ProcessCpu.Children;

    private static double CpuSeconds(int who) => ProcessCpu.Seconds(who);
}
