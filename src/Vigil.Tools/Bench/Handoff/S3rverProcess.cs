using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// s3rver (npm), the S3-compatible store of the object-storage run, on 127.0.0.1 with a free port, storing into
/// a folder of its own that is removed on dispose. Installed into <c>.vigil/tools</c> by
/// <c>scripts/test-setup.sh</c>, which this runs when it is missing.
/// </summary>
public sealed partial class S3rverProcess : IAsyncDisposable
{
    private readonly string _folder;

    private S3rverProcess(BenchProcess process, string folder, string url) => (Process, _folder, Url) = (process, folder, url);

    /// <summary>The node process serving the store.</summary>
    public BenchProcess Process { get; }

    /// <summary>Its endpoint, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    /// <summary>Starts s3rver storing into <paramref name="folder"/> (created; removed on dispose).</summary>
    public static async Task<S3rverProcess> StartAsync(string folder, TextWriter log, CancellationToken cancel)
    {
        var binary = await EnsureInstalledAsync(log, cancel);
        Directory.CreateDirectory(folder);
        // --silent: no line per request (logging would be the store's biggest cost here, and no store logs like that)
        var process = BenchProcess.Start("s3rver (node)", binary, ["-d", folder, "--address", "127.0.0.1", "--port", "0", "--silent"]);
        try
        {
            var line = await process.WaitForLineAsync(l => ListeningLine().IsMatch(l), TimeSpan.FromSeconds(60), cancel);
            return new S3rverProcess(process, folder, $"http://{ListeningLine().Match(line).Groups[1].Value}");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>The s3rver launcher in the repository's <c>.vigil/tools</c>, installed by <c>scripts/test-setup.sh</c> when missing.</summary>
    public static async Task<string> EnsureInstalledAsync(TextWriter log, CancellationToken cancel)
    {
        var root = RepositoryRoot();
        var binary = Path.Combine(root, ".vigil", "tools", "node_modules", ".bin", "s3rver");
        if (File.Exists(binary)) return binary;
        await log.WriteLineAsync("vigil bench handoff: s3rver is missing; running scripts/test-setup.sh to install it");
        using var setup = System.Diagnostics.Process.Start(new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "test-setup.sh")]) { UseShellExecute = false })
                          ?? throw new InvalidOperationException("cannot run scripts/test-setup.sh");
        await setup.WaitForExitAsync(cancel);
        if (setup.ExitCode != 0 || !File.Exists(binary))
            throw new InvalidOperationException($"scripts/test-setup.sh could not install s3rver into {binary}");
        return binary;
    }

    /// <summary>The checkout this build lives in (the folder with Vigil.slnx above the running assembly).</summary>
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"no Vigil checkout (Vigil.slnx) above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"listening on ([0-9.]+:[0-9]+)")]
    private static partial Regex ListeningLine();

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
