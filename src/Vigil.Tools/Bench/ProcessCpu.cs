using System.Runtime.InteropServices;

namespace Vigil.Tools.Bench;

/// <summary>
/// CPU seconds (user + system) from getrusage: of this process (<see cref="Self"/>), or of its children that
/// have been waited for (<see cref="Children"/>). Other load on the machine slows the wall clock, not these.
/// </summary>
public static class ProcessCpu
{
    public const int Self = 0, Children = -1;

    public static double Seconds(int who)
    {
        if (getrusage(who, out var usage) != 0) throw new InvalidOperationException("getrusage failed");
        return usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        private long _maxrss, _ixrss, _idrss, _isrss, _minflt, _majflt, _nswap, _inblock, _oublock, _msgsnd, _msgrcv, _nsignals, _nvcsw, _nivcsw;
    }
}
