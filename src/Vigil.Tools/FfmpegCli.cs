using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Vigil.Tools;

/// <summary>
/// Runs the ffmpeg command-line tool to completion: demo and test media, corpus clips, benchmark references.
/// (Vigil itself decodes through its shim; this is the one place that starts ffmpeg and waits for it.)
/// Every run is bounded — a timeout, and a cap on the stderr kept — and a run that fails, stalls or cannot
/// start throws <see cref="FfmpegException"/> naming the command and the end of what ffmpeg said.
/// Long-lived ffmpeg processes (live senders in the stream benchmark and service tests) are not run here:
/// they never finish by themselves.
/// </summary>
public static class FfmpegCli
{
    /// <summary>How long a run may take unless the caller says otherwise: generous for a 600 s AAC programme on a loaded machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The most stderr kept, in characters. Reference filters (silencedetect, ebur128, -benchmark) report on stderr and
    /// are parsed from it; a log beyond this is a runaway, and the run fails rather than grow without bound.
    /// </summary>
    public const int MaxStderrChars = 16 << 20;

    /// <summary>
    /// Runs <c>ffmpeg {arguments}</c> (one command line; quote paths as <c>"…"</c>) and returns its stderr.
    /// Its stdout is read and discarded, so a chatty run cannot block on a full pipe.
    /// </summary>
    /// <param name="arguments">The command line after <c>ffmpeg</c>.</param>
    /// <param name="cancel">Kills the run and throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="timeout">Kills the run and throws <see cref="FfmpegException"/> after this long (default <see cref="DefaultTimeout"/>).</param>
    /// <exception cref="FfmpegException">ffmpeg could not start, exited with a non-zero status, ran past the timeout or flooded stderr.</exception>
    public static async Task<string> RunAsync(string arguments, CancellationToken cancel = default, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var info = new ProcessStartInfo("ffmpeg", arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true, // closed below: ffmpeg must never wait for a key press
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new FfmpegException(arguments, null, "", "ffmpeg did not start");
        }
        catch (Win32Exception e)
        {
            throw new FfmpegException(arguments, null, "", $"cannot start ffmpeg ({e.Message}); scripts/setup.sh installs it");
        }
        using (process)
        {
            process.StandardInput.Close();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            deadline.CancelAfter(limit);
            var stderr = ReadBoundedAsync(process.StandardError, deadline.Token);
            var stdout = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, deadline.Token);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
                await stdout.ConfigureAwait(false);
                var text = await stderr.ConfigureAwait(false);
                if (text is null)
                {
                    Kill(process);
                    throw new FfmpegException(arguments, null, "", $"ffmpeg wrote more than {MaxStderrChars} characters to stderr");
                }
                if (process.ExitCode != 0) throw new FfmpegException(arguments, process.ExitCode, text, $"exit status {process.ExitCode}");
                return text;
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                cancel.ThrowIfCancellationRequested();
                throw new FfmpegException(arguments, null, "", $"did not finish in {limit.TotalSeconds:0} s");
            }
        }
    }

    /// <summary><see cref="RunAsync"/> for synchronous callers (test fixtures): blocks until ffmpeg is done.</summary>
    public static string Run(string arguments, TimeSpan? timeout = null) =>
        RunAsync(arguments, CancellationToken.None, timeout).GetAwaiter().GetResult();

    /// <summary>Whether the installed ffmpeg has the encoder <paramref name="encoder"/> (e.g. libx265): it encodes one tiny frame.</summary>
    public static async Task<bool> HasEncoderAsync(string encoder, string extraOptions = "", CancellationToken cancel = default)
    {
        try
        {
            await RunAsync($"-v error -f lavfi -i color=size=64x64:duration=0.04 -c:v {encoder} {extraOptions} -f null -", cancel,
                TimeSpan.FromMinutes(1)).ConfigureAwait(false);
            return true;
        }
        catch (FfmpegException)
        {
            return false;
        }
    }

    /// <summary>All of <paramref name="reader"/>, or null once it passes <see cref="MaxStderrChars"/> (the rest is drained, not kept).</summary>
    private static async Task<string?> ReadBoundedAsync(StreamReader reader, CancellationToken cancel)
    {
        var text = new StringBuilder();
        var buffer = new char[8192];
        var overflow = false;
        int read;
        while ((read = await reader.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
        {
            if (overflow) continue;
            if (text.Length + read > MaxStderrChars) overflow = true;
            else text.Append(buffer, 0, read);
        }
        return overflow ? null : text.ToString();
    }

    /// <summary>Kills the run and waits (briefly) until it is gone, so that nothing is left behind when the caller moves on.</summary>
    private static void Kill(Process process)
    {
        try
        {
            if (process.HasExited) return;
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException)
        {
            // it exited meanwhile
        }
    }
}

/// <summary>An ffmpeg CLI run that could not start, failed, stalled or flooded its log.</summary>
public sealed class FfmpegException : InvalidOperationException
{
    internal FfmpegException(string arguments, int? exitCode, string stderr, string reason)
        : base($"ffmpeg {arguments}: {reason}{Quote(stderr)}")
    {
        Arguments = arguments;
        ExitCode = exitCode;
        Stderr = stderr;
    }

    /// <summary>The command line after <c>ffmpeg</c>.</summary>
    public string Arguments { get; }

    /// <summary>The exit status; null when ffmpeg did not start or was killed.</summary>
    public int? ExitCode { get; }

    /// <summary>What ffmpeg wrote to stderr (empty when it was killed).</summary>
    public string Stderr { get; }

    /// <summary>How much of stderr the message quotes: ffmpeg puts the reason in its last lines.</summary>
    private const int QuotedChars = 1000;

    private static string Quote(string stderr)
    {
        var text = stderr.Trim();
        if (text.Length == 0) return "";
        return ": " + (text.Length > QuotedChars ? "…" + text[^QuotedChars..] : text);
    }
}
