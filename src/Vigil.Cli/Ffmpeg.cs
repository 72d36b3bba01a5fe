using System.Diagnostics;

namespace Vigil.Cli;

/// <summary>Runs the ffmpeg CLI (demo clips and benchmark references only; Vigil itself decodes through its shim).</summary>
internal static class Ffmpeg
{
    /// <summary>Runs ffmpeg with <paramref name="arguments"/>; returns null on success, else the tail of its stderr.</summary>
    public static async Task<string?> RunAsync(string arguments, CancellationToken cancel = default)
    {
        var info = new ProcessStartInfo("ffmpeg", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start ffmpeg");
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        _ = process.StandardOutput.ReadToEndAsync(cancel);
        await process.WaitForExitAsync(cancel);
        var text = (await stderr).Trim();
        return process.ExitCode == 0 ? null : (text.Length > 400 ? text[^400..] : text);
    }
}
