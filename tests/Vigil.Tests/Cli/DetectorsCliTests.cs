using System.Text.RegularExpressions;
using Vigil.Detectors;
using Vigil.Tests.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Cli;

/// <summary><c>vigil detectors</c> run as a process: every option of every detector, with its default, range and help.</summary>
public sealed class DetectorsCliTests
{
    private static async Task<string[]> Listing()
    {
        var run = await VigilCli.RunAsync("detectors");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Equal("", run.Stderr);
        return run.StdoutLines;
    }

    /// <summary>The listing line of one option: name, default, range and help in that order, separated by column gaps.</summary>
    private static Regex OptionLine(string name, string fallback, string range, string help) =>
        new($"^{Regex.Escape(name)} {{2,}}{Regex.Escape(fallback)} {{2,}}{Regex.Escape(range)} {{2,}}{Regex.Escape(help)}$");

    [Fact]
    public async Task Detectors_EveryDeclaredOption_IsListedUnderItsKindWithDefaultRangeAndHelp()
    {
        var lines = await Listing();
        foreach (var detector in DetectorCatalog.All)
        {
            var heading = Array.IndexOf(lines, $"{detector.Kind}: {detector.Description}");
            Assert.True(heading >= 0, $"no heading for {detector.Kind}");
            var block = lines.Skip(heading + 2).Take(detector.Options.Count).ToArray();
            Assert.Equal(detector.Options.Count, block.Length);
            for (var i = 0; i < block.Length; i++)
            {
                var o = detector.Options[i];
                Assert.Matches(OptionLine(o.Name, o.Default == "" ? "none" : o.Default, o.Range, o.Help), block[i]);
            }
        }
    }

    [Fact]
    public async Task Detectors_Listing_AgreesWithTheHandWrittenOptionList()
    {
        var lines = await Listing();
        var kind = "";
        var listed = new Dictionary<string, string>();
        foreach (var line in lines)
        {
            var heading = Regex.Match(line, @"^([a-z]+\.[a-z_]+): "); // ts.pcr_accuracy_error
            if (heading.Success) { kind = heading.Groups[1].Value; continue; }
            var option = Regex.Match(line, @"^([a-z_]+) {2,}(\S+) {2,}(.+?) {2,}");
            if (option.Success && option.Groups[1].Value != "option") listed[$"{kind}.{option.Groups[1].Value}"] = $"{option.Groups[2].Value} | {option.Groups[3].Value}";
        }
        foreach (var e in OptionRangeTests.Numeric)
            Assert.Equal($"{(e.Default == "" ? "none" : e.Default)} | {e.ListedRange}", listed[e.Key]);
        foreach (var (key, fallback) in OptionRangeTests.Other)
            Assert.StartsWith($"{(fallback == "" ? "none" : fallback)} | ", listed[key]);
        Assert.Equal(OptionRangeTests.Numeric.Length + OptionRangeTests.Other.Length, listed.Count);
    }

    [Theory]
    [InlineData("min_changed_cells", "2", "1 to 100000", "Cells that must change for the picture to count as moving (one can be a noise outlier)")]
    [InlineData("block_step_cap", "96", "1 to 2040", "A block edge whose step excess summed over its 8 pixels exceeds this is a content edge, not blocking (≥ block_step)")]
    [InlineData("level_db", "-3", "-20 to -0.1", "Waveform tops above this level (dBFS) are examined; below it nothing counts as clipped")]
    [InlineData("preset", "Ebu", "ebu | atsc", "Standard giving the target and tolerance unless they are set")]
    [InlineData("target", "none", "-70 to 0", "Target loudness in LUFS (default: the preset's)")]
    [InlineData("mask", "none", "x,y,w,h[;…] fractions", "Regions to ignore, e.g. a burnt-in clock")]
    [InlineData("patch_step", "3", "0.015625 to 255", "Two flat neighbouring blocks form a patch step when their mean luma differs by at least this many code values")]
    public async Task Detectors_Listing_ShowsTheseLines(string name, string fallback, string range, string help)
    {
        Assert.Contains(await Listing(), line => OptionLine(name, fallback, range, help).IsMatch(line));
    }
}
