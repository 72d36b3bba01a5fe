namespace Vigil.Tests;

/// <summary>
/// The real broadcast captures in Data/real (from TSDuck's public test suite, BSD 2-Clause; see the README
/// there), read in place from the source tree, with TSDuck's own analysis report beside two of them.
/// </summary>
public static class RealCaptures
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Vigil.slnx")))
                return Path.Combine(dir.FullName, "tests", "Vigil.Tests", "Data", "real");
        throw new DirectoryNotFoundException("no Vigil.slnx above " + AppContext.BaseDirectory);
    });

    /// <summary>SPTS, H.264 1024×576 + AAC, 12 s; TSDuck: 0 continuity errors on every PID.</summary>
    public static string Test072 => Path.Combine(Folder.Value, "test-072.ts");

    /// <summary>SPTS, MPEG-2 720×576 + MP2, 3 s.</summary>
    public static string Test025 => Path.Combine(Folder.Value, "test-025.ts");

    /// <summary>MPTS, a DVB-T multiplex of five TV and three radio programmes, each on its own clock, about 1 s.</summary>
    public static string Test108 => Path.Combine(Folder.Value, "test-108.ts");

    /// <summary>TSDuck's <c>tsanalyze --full</c> report of a capture.</summary>
    public static string TsduckReport(string capture) => Path.ChangeExtension(capture, ".tsduck-analyze.txt");
}
