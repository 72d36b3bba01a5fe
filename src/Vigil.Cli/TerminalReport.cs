using Spectre.Console;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Cli;

/// <summary>The human-facing output of <c>analyze</c>: a progress bar on stderr, then a table of defects.</summary>
internal static class TerminalReport
{
    private static readonly IAnsiConsole Err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    static TerminalReport()
    {
        // no colour codes in a pipe or a file
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Capabilities.Ansi = false;
    }

    public static async Task<AnalysisSummary> WithProgressAsync(MediaInfo media, StreamAnalyzer analyzer, CancellationToken cancel)
    {
        AnalysisSummary? summary = null;
        await Err.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("analysing", maxValue: media.Duration ?? 1);
                task.IsIndeterminate = media.Duration is null;
                var run = analyzer.RunAsync(cancel);
                while (!run.IsCompleted)
                {
                    task.Value = Math.Min(analyzer.Position, task.MaxValue);
                    task.Description = $"analysing {analyzer.VideoFrames} frames";
                    await Task.WhenAny(run, Task.Delay(100, CancellationToken.None));
                }
                task.Value = task.MaxValue;
                summary = await run;
            });
        return summary!;
    }

    public static void Print(string input, AnalysisSummary summary, IReadOnlyList<Defect> defects)
    {
        var media = summary.Media;
        var header = new List<string> { $"[bold]{Markup.Escape(input)}[/]  {summary.Duration:0.00} s" };
        if (media.Video is { } v) header.Add($"video {v.Codec} {v.Width}×{v.Height} {v.Fps:0.##} fps, {summary.VideoFrames} frames");
        if (media.Audio is { } a) header.Add($"audio {a.Codec} {a.SampleRate} Hz × {a.Channels}");
        AnsiConsole.MarkupLine(string.Join("   ", header));
        if (summary.Loudness is { } l)
            AnsiConsole.MarkupLine($"loudness {l.IntegratedLufs:0.0} LUFS integrated, range {l.LoudnessRangeLu:0.0} LU, true peak {l.TruePeakDbtp:0.0} dBTP");
        PrintDefects(defects);
        var extra = summary.CorruptPackets + summary.DecodeErrors > 0
            ? $", {summary.CorruptPackets} corrupt packets, {summary.DecodeErrors} decode errors" : "";
        AnsiConsole.MarkupLine($"{defects.Count} defects{extra}; analysed in {summary.WallSeconds:0.00} s " +
                               $"({(summary.WallSeconds > 0 ? summary.Duration / summary.WallSeconds : 0):0.#}× real time)");
    }

    /// <summary>The table of defects (also what was found before an input failed).</summary>
    public static void PrintDefects(IReadOnlyList<Defect> defects)
    {
        if (defects.Count == 0)
        {
            AnsiConsole.MarkupLine("[green]no defects[/]");
        }
        else
        {
            var table = new Table().AddColumns("kind", "start", "end", "length", "confidence", "details");
            foreach (var d in defects)
            {
                var end = d.End ?? d.Start;
                // the numbers; who closed a defect shows in its end (the input's end, or the failure reported below)
                var details = d.Details is null ? "" : string.Join(", ", d.Details.Select(p => $"{p.Key} {p.Value:0.####}"));
                table.AddRow(d.Kind, Clock(d.Start), Clock(end), $"{end - d.Start:0.00} s", $"{d.Confidence:0.00}", Markup.Escape(details));
            }
            AnsiConsole.Write(table);
        }
    }

    private static string Clock(double seconds) => TimeSpan.FromSeconds(seconds).ToString(seconds >= 3600 ? @"h\:mm\:ss\.fff" : @"m\:ss\.fff");
}
