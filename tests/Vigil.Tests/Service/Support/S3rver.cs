using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Vigil.Tests.Service.Support;

/// <summary>
/// s3rver (npm), an S3-compatible server, on 127.0.0.1 with a free port, storing into a temporary folder.
/// Installed into .vigil/tools by scripts/test-setup.sh, which this runs when it is missing.
/// </summary>
internal sealed partial class S3rver : IAsyncDisposable
{
    public const string AccessKey = "S3RVER", SecretKey = "S3RVER";

    private readonly ChildProcess _process;
    private readonly string _folder;

    private S3rver(ChildProcess process, string folder, string url)
    {
        _process = process;
        _folder = folder;
        Url = url;
    }

    public string Url { get; }

    public static async Task<S3rver> StartAsync()
    {
        var root = RepositoryRoot();
        var binary = Path.Combine(root, ".vigil", "tools", "node_modules", ".bin", "s3rver");
        if (!File.Exists(binary))
        {
            using var setup = Process.Start(new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "test-setup.sh")]) { UseShellExecute = false })!;
            await setup.WaitForExitAsync();
            Assert.True(setup.ExitCode == 0 && File.Exists(binary), $"scripts/test-setup.sh could not install s3rver into {binary}");
        }
        var folder = Net.TempDir("s3rver");
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = ChildProcess.Start(new ProcessStartInfo(binary, ["-d", folder, "--address", "127.0.0.1", "--port", "0", "--silent"]), line =>
        {
            if (ListeningLine().Match(line) is { Success: true } m) listening.TrySetResult(m.Groups[1].Value);
        });
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new S3rver(process, folder, $"http://{address}");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Vigil.slnx) not found");
    }

    [GeneratedRegex(@"listening on ([0-9.]+:[0-9]+)")]
    private static partial Regex ListeningLine();

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
