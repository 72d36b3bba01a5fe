using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Tools;

namespace Vigil.Tests.Support;

/// <summary>
/// What FFmpeg's own reference filters (blackdetect, freezedetect, silencedetect) report on a clip,
/// so a test can show that a trap is real: the reference gets it wrong where Vigil must not.
/// </summary>
public static partial class FfmpegReference
{
    /// <summary>An interval a reference filter logged; <see cref="End"/> is null when it never logged the end.</summary>
    public readonly record struct Interval(double Start, double? End);

    /// <summary><c>blackdetect</c> with the contract's minimum duration (1 s) and its default thresholds.</summary>
    public static async Task<IReadOnlyList<Interval>> BlackDetectAsync(string clip)
    {
        var log = await RunAsync(clip, "-an -vf blackdetect=d=1");
        return BlackLine().Matches(log).Select(m => new Interval(Number(m.Groups[1]), Number(m.Groups[2]))).ToList();
    }

    /// <summary><c>freezedetect</c> with its defaults (−60 dB, 2 s).</summary>
    public static async Task<IReadOnlyList<Interval>> FreezeDetectAsync(string clip)
    {
        var log = await RunAsync(clip, "-an -vf freezedetect");
        return Pair(log, FreezeStart(), FreezeEnd());
    }

    /// <summary><c>silencedetect</c> with the contract's −60 dB and 2 s.</summary>
    public static async Task<IReadOnlyList<Interval>> SilenceDetectAsync(string clip)
    {
        var log = await RunAsync(clip, "-vn -af silencedetect=n=-60dB:d=2");
        return Pair(log, SilenceStart(), SilenceEnd());
    }

    private static Task<string> RunAsync(string clip, string filter) =>
        FfmpegCli.RunAsync($"-hide_banner -nostats -nostdin -v info -i \"{clip}\" {filter} -f null -");

    private static List<Interval> Pair(string log, Regex start, Regex end)
    {
        var starts = start.Matches(log).Select(m => Number(m.Groups[1])).ToList();
        var ends = end.Matches(log).Select(m => Number(m.Groups[1])).ToList();
        return starts.Select((s, i) => new Interval(s, i < ends.Count ? ends[i] : null)).ToList();
    }

    private static double Number(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"black_start:([\d.]+) black_end:([\d.]+)")]
    private static partial Regex BlackLine();

    [GeneratedRegex(@"freeze_start: ([\d.]+)")]
    private static partial Regex FreezeStart();

    [GeneratedRegex(@"freeze_end: ([\d.]+)")]
    private static partial Regex FreezeEnd();

    [GeneratedRegex(@"silence_start: ([\d.]+)")]
    private static partial Regex SilenceStart();

    [GeneratedRegex(@"silence_end: ([\d.]+)")]
    private static partial Regex SilenceEnd();
}
