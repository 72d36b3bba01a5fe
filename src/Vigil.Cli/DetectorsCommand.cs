using System.CommandLine;
using Spectre.Console;
using Vigil.Detectors;

namespace Vigil.Cli;

/// <summary><c>vigil detectors</c>: the catalog, with every option and its default.</summary>
internal static class DetectorsCommand
{
    public static Command Create()
    {
        var command = new Command("detectors", "List detectors and their options (set with --set kind.option=value)");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("kind", "reports", "options (default)");
            foreach (var d in DetectorCatalog.All)
                table.AddRow(d.Kind, Markup.Escape(d.Description),
                    Markup.Escape(string.Join("\n", d.Options.Select(o => $"{o.Name} = {(o.Default == "" ? "none" : o.Default)}"))));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
