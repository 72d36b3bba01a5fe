using System.CommandLine;

namespace Vigil.Cli;

/// <summary>
/// <c>vigil demo</c>: generates a short clip with known defects using the ffmpeg CLI, then analyses it,
/// so a new user sees real output from a fresh clone without bringing media of their own.
/// </summary>
internal static class DemoCommand
{
    /// <summary>What the demo clip contains, by construction.</summary>
    public const string GroundTruth =
        "0–12 s colour bars with motion and a 440 Hz tone; black 3–5 s; frozen picture 6–9 s; silence 7–10 s; right channel dead 10–12 s";

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "JSON Lines output, as analyze --json" };
        var command = new Command("demo", "Generate a 12 s clip with black, freeze and silence, and analyse it") { json };
        command.SetAction(async (parse, cancel) =>
        {
            var clip = Path.Combine(Path.GetTempPath(), "vigil-demo.mp4");
            await Console.Error.WriteLineAsync($"vigil demo: generating {clip}");
            await Console.Error.WriteLineAsync($"  ground truth: {GroundTruth}");
            var error = await Ffmpeg.RunAsync(
                "-y -v error -f lavfi -i testsrc2=size=1280x720:rate=25:duration=12 " +
                "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=12 " +
                "-f lavfi -i sine=frequency=660:sample_rate=48000:duration=12 " +
                "-filter_complex \"[0:v]drawbox=enable='between(t,3,5)':color=black:t=fill,split[s][r];[s][r]freezeframes=first=150:last=224:replace=150[v];" +
                "[1:a]volume=enable='between(t,7,10)':volume=0[l];[2:a]volume=enable='gte(t,7)':volume=0[r];" +
                "[l][r]join=inputs=2:channel_layout=stereo[a]\" " +
                $"-map [v] -map [a] -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k \"{clip}\"", cancel);
            if (error is not null)
            {
                await Console.Error.WriteLineAsync($"vigil demo: ffmpeg failed: {error}");
                return AnalyzeCommand.ExitInputFailed;
            }
            return await AnalyzeCommand.RunAsync(new AnalyzeCommand.AnalyzeRequest(clip, parse.GetValue(json), null, [], 0, 640), cancel);
        });
        return command;
    }
}
