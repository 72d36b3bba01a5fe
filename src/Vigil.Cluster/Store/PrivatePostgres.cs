using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Cluster.Store;

/// <summary>
/// A throwaway PostgreSQL cluster for tests, benchmarks and the fleet demo: <c>initdb</c> into a temporary
/// folder, <c>pg_ctl start</c> on a free 127.0.0.1 port (trust authentication: nothing but this machine
/// reaches it), removed again on dispose. PostgreSQL refuses to run as root, so as root the server runs
/// as the <c>postgres</c> user that Debian's package creates.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _dir;
    private readonly string? _runAs;

    private PrivatePostgres(string bin, string dir, int port, string? runAs)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        _runAs = runAs;
    }

    public int Port { get; }

    /// <summary>Connection string of the superuser <c>vigil</c> to <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=vigil;Database={database};Pooling=true;Maximum Pool Size=20;Timeout=15;Command Timeout=30";

    /// <summary>Finds PostgreSQL's server programs (Debian: /usr/lib/postgresql/VERSION/bin); null when it is not installed.</summary>
    public static string? FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("VIGIL_PG_BIN") is { Length: > 0 } configured) return configured;
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    /// <summary>Creates and starts a new cluster; throws with PostgreSQL's own message when it cannot.</summary>
    public static PrivatePostgres Start()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (apt-get install postgresql; scripts/test-setup.sh does it)");
        var dir = Path.Combine(Path.GetTempPath(), "vigil-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        string? runAs = null;
        if (Environment.UserName == "root")
        {
            runAs = "postgres";
            Run("chown", ["-R", "postgres:postgres", dir], null);
        }
        var port = FreePort();
        var server = new PrivatePostgres(bin, dir, port, runAs);
        try
        {
            var data = Path.Combine(dir, "data");
            Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "vigil", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], runAs);
            Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60",
                "-o", $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", "start"], runAs);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    /// <summary>Creates a database (one per test or run keeps them apart) and returns its connection string.</summary>
    public string CreateDatabase(string name)
    {
        using var connection = new Npgsql.NpgsqlConnection(ConnectionString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{name.Replace("\"", "")}\"";
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path.Combine(_dir, "data")))
                Run(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], _runAs);
        }
        catch (InvalidOperationException)
        {
            // not running: nothing to stop
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Run(string program, IReadOnlyList<string> arguments, string? runAs)
    {
        var info = runAs is null ? new ProcessStartInfo(program) : new ProcessStartInfo("runuser");
        if (runAs is not null)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(runAs);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(program);
        }
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not finish in 120 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {error.Result.Trim()} {output.Result.Trim()}".Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
