namespace Vigil.Tests.Support;

/// <summary>
/// The real broadcast captures in <c>shared/corpus/real/</c> (README there): found by walking up from the
/// test assembly to a folder that has <c>shared/corpus/real</c>, or at <c>VIGIL_REAL_CORPUS</c>. Absent on a
/// machine without the shared folder: tests that need one return early there.
/// </summary>
public static class RealCorpus
{
    /// <summary>The path of capture <paramref name="name"/>, or null when the real corpus is not on this machine.</summary>
    public static string? Find(string name)
    {
        if (Environment.GetEnvironmentVariable("VIGIL_REAL_CORPUS") is { Length: > 0 } configured)
            return File.Exists(Path.Combine(configured, name)) ? Path.Combine(configured, name) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "shared", "corpus", "real", name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
