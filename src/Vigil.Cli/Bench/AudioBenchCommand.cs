using System.CommandLine;
using System.Globalization;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary><c>vigil bench audio</c>: audio analysis cost per stream-hour against the ffmpeg filter chain (<see cref="AudioBench"/>).</summary>
internal static class AudioBenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of the generated programme audio", DefaultValueFactory = _ => 600 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each side; the fastest counts", DefaultValueFactory = _ => 2 };
        var command = new Command("audio", $"Audio analysis (silence, loudness, clipping, summary meter) vs ffmpeg -af {AudioBench.FfmpegChain}")
            { seconds, repeat };
        command.SetAction(async (parse, cancel) =>
        {
            var repeats = Math.Max(1, parse.GetValue(repeat));
            var r = await AudioBench.RunAsync(BenchCommand.WorkDir, Console.Error, cancel, parse.GetValue(seconds), repeats);
            Console.WriteLine($"# vigil bench audio — {r.MediaSeconds / 60:0.#} min stereo 48 kHz AAC, best of {repeats}");
            Console.WriteLine();
            Console.WriteLine("| run | CPU s | CPU s per stream-hour | ratio |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Vigil (decode + silence, loudness, clipping, summary meter) | {r.Vigil.CpuSeconds:0.00} | {r.VigilCpuPerStreamHour:0.0} | 1.00× |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ffmpeg -af {AudioBench.FfmpegChain} | {r.Ffmpeg.CpuSeconds:0.00} | {r.FfmpegCpuPerStreamHour:0.0} | {r.Ratio:0.00}× |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ffmpeg decode only | {r.DecodeOnlyCpuSeconds:0.00} | {r.DecodeOnlyCpuPerStreamHour:0.0} | |"));
            Console.WriteLine();
            Console.WriteLine("ratio: the row's CPU divided by Vigil's (> 1: Vigil is cheaper).");
            return 0;
        });
        return command;
    }
}
