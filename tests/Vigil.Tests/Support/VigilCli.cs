using System.Diagnostics;

namespace Vigil.Tests.Support;

/// <summary>Runs the built <c>vigil</c> CLI (copied next to the tests) as its own process, as a user would.</summary>
public static class VigilCli
{
    /// <summary>The built CLI, beside the tests (the test project references Vigil.Cli for this).</summary>
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "vigil.dll");

    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>Non-empty stdout lines.</summary>
        public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        /// <summary>Non-empty stderr lines.</summary>
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static async Task<Run> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Assembly);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"vigil {string.Join(' ', arguments)} did not finish in 60 s");
        }
        return new Run(process.ExitCode, await stdout, await stderr);
    }
}
