using System.CommandLine;

namespace Vigil.Cli;

/// <summary><c>vigil bench</c>: whole-pipeline throughput against the ffmpeg CLI, measured in the same run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmark Vigil against the ffmpeg CLI on generated clips");
        command.SetAction(_ => 0);
        return command;
    }
}
