using System.Diagnostics;
using System.Globalization;

namespace Vigil.Tools.Bench;

/// <summary>CPU seconds (user + system), wall seconds and peak resident memory of one child process.</summary>
public sealed record ProcessCost(double WallSeconds, double CpuSeconds, double PeakRssMb, string Stdout);

/// <summary>
/// Runs a command under GNU time so Vigil and the ffmpeg CLI are measured by the same yardstick:
/// the kernel's accounting of the child, start-up included.
/// </summary>
public static class MeasuredProcess
{
    public const string GnuTime = "/usr/bin/time";

    public static async Task<ProcessCost> RunAsync(string program, IEnumerable<string> arguments, CancellationToken cancel)
    {
        var report = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo(GnuTime) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-f", "%e %U %S %M", "-o", report, program }.Concat(arguments)) info.ArgumentList.Add(a);
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
            var stdout = process.StandardOutput.ReadToEndAsync(cancel);
            var stderr = process.StandardError.ReadToEndAsync(cancel);
            await process.WaitForExitAsync(cancel);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {Tail(await stderr)}");
            var fields = (await File.ReadAllLinesAsync(report, cancel)).Last(l => l.Trim().Length > 0)
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return new ProcessCost(fields[0], fields[1] + fields[2], fields[3] / 1024, await stdout);
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static string Tail(string text) => text.Length > 300 ? text[^300..].Trim() : text.Trim();
}
