using System.Diagnostics;
using Vigil.Tools;

namespace Vigil.Tests.Tools;

/// <summary>The one ffmpeg CLI runner: its output, its failures and its bounds, on the real ffmpeg.</summary>
public class FfmpegCliTests
{
    [Fact]
    public async Task RunAsync_Success_ReturnsStderr()
    {
        var log = await FfmpegCli.RunAsync("-hide_banner -nostats -f lavfi -i testsrc2=size=64x64:rate=25:duration=0.2 -vf showinfo -f null -");

        Assert.Equal(5, log.Split('\n').Count(l => l.Contains("Parsed_showinfo", StringComparison.Ordinal) && l.Contains(" n:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunAsync_Failure_ThrowsWithExitStatusAndFfmpegsReason()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"vigil-no-such-{Guid.NewGuid():N}.mp4");

        var e = await Assert.ThrowsAsync<FfmpegException>(() => FfmpegCli.RunAsync($"-v error -i \"{missing}\" -f null -"));

        Assert.NotNull(e.ExitCode);
        Assert.NotEqual(0, e.ExitCode);
        Assert.Contains("No such file or directory", e.Stderr);
        Assert.Contains(missing, e.Message);                       // the command
        Assert.Contains("No such file or directory", e.Message);   // and why
    }

    [Fact]
    public async Task RunAsync_PastTimeout_KillsFfmpegAndSaysSo()
    {
        // an endless real-time source: only the timeout ends it
        const string endless = "-v error -re -f lavfi -i testsrc2=size=64x64:rate=25 -f null -";
        var before = FfmpegPids();

        var e = await Assert.ThrowsAsync<FfmpegException>(() => FfmpegCli.RunAsync(endless, timeout: TimeSpan.FromSeconds(1)));

        Assert.Contains("did not finish in 1 s", e.Message);
        Assert.Null(e.ExitCode);
        Assert.DoesNotContain(FfmpegPids().Except(before), IsEndless); // killed, not left behind
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsFfmpegAndThrowsCancelled()
    {
        const string endless = "-v error -re -f lavfi -i testsrc2=size=48x48:rate=25 -f null -";
        var before = FfmpegPids();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FfmpegCli.RunAsync(endless, cancel.Token));

        Assert.DoesNotContain(FfmpegPids().Except(before), pid => CommandLine(pid).Contains("48x48", StringComparison.Ordinal));
    }

    private static bool IsEndless(int pid) => CommandLine(pid).Contains("testsrc2=size=64x64:rate=25\0", StringComparison.Ordinal);

    private static HashSet<int> FfmpegPids() =>
        Process.GetProcessesByName("ffmpeg").Select(p => { using (p) return p.Id; }).ToHashSet();

    /// <summary>The process's arguments, NUL-separated (empty once it is gone).</summary>
    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline"); }
        catch (IOException) { return ""; }
    }
}
