using System.CommandLine;
using Vigil.Detectors;

namespace Vigil.Cli;

/// <summary><c>vigil detectors</c>: the catalog, with every option's default, accepted values and help, as each option declares them.</summary>
internal static class DetectorsCommand
{
    public static Command Create()
    {
        var command = new Command("detectors", "List detectors and their options (set with --set kind.option=value)");
        command.SetAction(_ =>
        {
            foreach (var line in Lines()) Console.WriteLine(line);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// One paragraph a detector: its kind and what it reports, then one line an option (name, default, range,
    /// help), in columns aligned across the catalog.
    /// </summary>
    internal static IEnumerable<string> Lines()
    {
        var options = DetectorCatalog.All.SelectMany(d => d.Options).ToList();
        var name = Math.Max("option".Length, options.Max(o => o.Name.Length));
        var fallback = Math.Max("default".Length, options.Max(o => Default(o).Length));
        var range = Math.Max("range".Length, options.Max(o => o.Range.Length));
        string Row(string n, string d, string r, string help) => $"  {n.PadRight(name)}  {d.PadRight(fallback)}  {r.PadRight(range)}  {help}";
        var first = true;
        foreach (var detector in DetectorCatalog.All)
        {
            if (!first) yield return "";
            first = false;
            yield return $"{detector.Kind}: {detector.Description}";
            yield return Row("option", "default", "range", "meaning").TrimEnd();
            foreach (var option in detector.Options) yield return Row(option.Name, Default(option), option.Range, option.Help);
        }
        yield return "";
        yield return "Set with --set kind.option=value, e.g. --set video.black.min_duration=2 (ranges include both ends).";
    }

    private static string Default(DetectorOption option) => option.Default == "" ? "none" : option.Default;
}
