using System.Diagnostics;

namespace Vigil.Tests;

/// <summary>Runs the ffmpeg CLI to make test media; ground truth comes from the command itself.</summary>
internal static class GeneratedMedia
{
    public static void Ffmpeg(string arguments)
    {
        var info = new ProcessStartInfo("ffmpeg", "-y -v error " + arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {arguments}: {error.Result}");
    }
}
