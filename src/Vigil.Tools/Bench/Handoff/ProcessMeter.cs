using System.Globalization;
using System.Runtime.InteropServices;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// The kernel's accounting of a running process (Linux /proc): CPU seconds of all its threads, and its peak
/// resident memory. Read while the process lives, so a benchmark can take the CPU of a measured window only
/// (start-up and tear-down left out) from processes it did not write (node, ffmpeg) as well as its own.
/// </summary>
public static class ProcessMeter
{
    private static readonly double TicksPerSecond = ClockTicks();

    /// <summary>User + system CPU seconds <paramref name="pid"/> has used so far.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // "pid (comm) state ppid …": comm may hold spaces, so count fields from its closing parenthesis
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Peak resident memory of <paramref name="pid"/> so far (VmHWM), in MiB.</summary>
    public static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        throw new InvalidOperationException($"/proc/{pid}/status has no VmHWM");
    }

    /// <summary>Whether something listens on TCP <paramref name="port"/> of 127.0.0.1 (/proc/net/tcp, state LISTEN).</summary>
    public static bool IsListening(int port)
    {
        var local = $"0100007F:{port:X4}";
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[1] == local && fields[3] == "0A") return true;
        }
        return false;
    }

    /// <summary>The machine's load averages over 1, 5 and 15 minutes (/proc/loadavg).</summary>
    public static LoadAverage Load()
    {
        var f = File.ReadAllText("/proc/loadavg").Split(' ');
        double N(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        return new LoadAverage(N(0), N(1), N(2));
    }

    private const int ScClockTicks = 2; // _SC_CLK_TCK on Linux

    private static double ClockTicks()
    {
        var ticks = sysconf(ScClockTicks);
        return ticks > 0 ? ticks : 100;
    }

    [DllImport("libc")]
    private static extern long sysconf(int name);
}

/// <summary>The machine's load averages (runnable processes, all users) over 1, 5 and 15 minutes.</summary>
public readonly record struct LoadAverage(double One, double Five, double Fifteen);
