namespace Vigil.Tools.Corpus;

/// <summary>
/// The real broadcast captures checked into the source tree (<c>tests/Vigil.Tests/Data/real</c>, from TSDuck's
/// public test suite; README there), found above the working directory or the program by the solution file,
/// or in the folder <c>VIGIL_REAL_CORPUS</c> names. Where neither is there (an installed tool), there are none.
/// </summary>
public static class CaptureFiles
{
    /// <summary>The path of capture <paramref name="name"/> (e.g. <c>test-072.ts</c>), or null when it is not on this machine.</summary>
    public static string? Find(string name)
    {
        if (Environment.GetEnvironmentVariable("VIGIL_REAL_CORPUS") is { Length: > 0 } configured)
            return File.Exists(Path.Combine(configured, name)) ? Path.Combine(configured, name) : null;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Vigil.slnx")))
                {
                    var path = Path.Combine(dir.FullName, "tests", "Vigil.Tests", "Data", "real", name);
                    if (File.Exists(path)) return path;
                    break;
                }
        return null;
    }
}
