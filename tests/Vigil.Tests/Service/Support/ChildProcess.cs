using System.Diagnostics;

namespace Vigil.Tests.Service.Support;

/// <summary>
/// A process a live test runs beside the service (an ffmpeg source, s3rver). Its stderr (and stdout, when
/// watched) is drained so a full pipe never stalls it; disposing kills its whole tree, and is safe twice.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private ChildProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="info"/>; <paramref name="onOutputLine"/>, when given, sees each line of stdout.</summary>
    public static ChildProcess Start(ProcessStartInfo info, Action<string>? onOutputLine = null)
    {
        info.UseShellExecute = false;
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = onOutputLine is not null;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        if (onOutputLine is not null)
        {
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line) onOutputLine(line);
            };
            process.BeginOutputReadLine();
        }
        return new ChildProcess(process);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
