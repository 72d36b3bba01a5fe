using System.CommandLine;
using Vigil.Tools;

namespace Vigil.Cli;

/// <summary>
/// <c>vigil demo</c>: generates a short clip with known defects (<see cref="DemoClip"/>), then analyses it,
/// so a new user sees real output from a fresh clone without bringing media of their own.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "JSON Lines output, as analyze --json" };
        var command = new Command("demo", "Generate a 12 s clip with black, freeze and silence, and analyse it") { json };
        command.SetAction(async (parse, cancel) =>
        {
            var clip = Path.Combine(Path.GetTempPath(), "vigil-demo.mp4");
            await Console.Error.WriteLineAsync($"vigil demo: generating {clip}");
            await Console.Error.WriteLineAsync($"  ground truth: {DemoClip.GroundTruth}");
            try
            {
                await DemoClip.GenerateAsync(clip, cancel);
            }
            catch (FfmpegException e)
            {
                await Console.Error.WriteLineAsync($"vigil demo: {e.Message}");
                return AnalyzeCommand.ExitInputFailed;
            }
            return await AnalyzeCommand.RunAsync(new AnalyzeCommand.AnalyzeRequest(clip, parse.GetValue(json), null, [], 0, 640), cancel);
        });
        return command;
    }
}
