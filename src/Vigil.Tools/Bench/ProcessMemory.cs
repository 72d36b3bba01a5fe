using System.Runtime.InteropServices;

namespace Vigil.Tools.Bench;

/// <summary>
/// Where this process's resident memory is, to tell growth that is a leak from growth that is not: anonymous
/// memory (heaps) apart from file pages (code touched for the first time), and of the C heap (glibc malloc,
/// all arenas: FFmpeg, the shim, the runtime's own) what is allocated apart from what is free but still held.
/// Linux with glibc only; elsewhere the figures are NaN.
/// </summary>
/// <param name="RssMiB">Resident memory.</param>
/// <param name="AnonMiB">Of it, anonymous memory: the managed heap, the C heap, stacks.</param>
/// <param name="FileMiB">Of it, file pages: code and mapped files, touched once and kept.</param>
/// <param name="MallocInUseMiB">C heap handed out and not freed.</param>
/// <param name="MallocFreeMiB">C heap freed but kept by its arenas (reused by later allocations, resident while touched).</param>
/// <param name="MallocMappedMiB">Of <paramref name="MallocInUseMiB"/>, the blocks in mappings of their own (glibc's mmap threshold and over), which go back to the system when freed.</param>
public readonly record struct ProcessMemory(double RssMiB, double AnonMiB, double FileMiB, double MallocInUseMiB, double MallocFreeMiB, double MallocMappedMiB = double.NaN)
{
    private const double MiB = 1048576.0;

    /// <summary>The figures now.</summary>
    public static ProcessMemory Now()
    {
        double rss = double.NaN, anon = double.NaN, file = double.NaN;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kib(line);
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kib(line);
                else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kib(line);
            }
        }
        catch (IOException) { }
        double inUse = double.NaN, free = double.NaN, mapped = double.NaN;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var m = mallinfo2();
                inUse = (double)(m.uordblks + m.hblkhd) / MiB; // chunks handed out, from the arenas and mmapped
                free = m.fordblks / MiB;                        // free chunks the arenas keep
                mapped = m.hblkhd / MiB;
            }
            catch (EntryPointNotFoundException) { } // not glibc (musl), or glibc older than 2.33
        }
        return new ProcessMemory(rss, anon, file, inUse, free, mapped);
    }

    /// <summary>Gives the C heap's free memory back to the system (glibc <c>malloc_trim(0)</c>); false where there is none to call.</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            malloc_trim(0);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static double Kib(string line) =>
        double.TryParse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture, out var kib) ? kib / 1024 : double.NaN;

#pragma warning disable IDE1006, SYSLIB1054 // glibc's names; a plain blittable call
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 mallinfo2();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
#pragma warning restore IDE1006, SYSLIB1054
}
