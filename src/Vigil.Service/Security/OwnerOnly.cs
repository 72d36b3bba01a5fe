namespace Vigil.Service.Security;

/// <summary>
/// Files and folders only the service's own user can read: the data folder (0700), the database and its
/// WAL/SHM, keys and results (0600). Files are created with their final mode rather than chmod-ed after
/// being written, so there is no moment when another user could open them.
/// </summary>
public static class OwnerOnly
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> and its missing parents owner-only; an existing folder is restricted too (its parents are not).</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        var full = Path.GetFullPath(path);
        var missing = new Stack<string>();
        for (var dir = full; !Directory.Exists(dir); dir = Path.GetDirectoryName(dir)!) missing.Push(dir);
        // one level at a time: CreateDirectory's mode applies to the folder it is asked for, not to the parents it makes
        while (missing.TryPop(out var dir)) Directory.CreateDirectory(dir, FolderMode);
        Restrict(full);
    }

    /// <summary>Sets an existing file to 0600 or folder to 0700; nothing when it does not exist.</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (Directory.Exists(path)) File.SetUnixFileMode(path, FolderMode);
        else if (File.Exists(path)) File.SetUnixFileMode(path, FileMode);
    }

    /// <summary>Creates an empty owner-only file unless it exists, then restricts it (an older install may have left it 0644).</summary>
    public static void Touch(string path)
    {
        if (!File.Exists(path))
        {
            using var _ = new FileStream(path, Options(System.IO.FileMode.OpenOrCreate));
        }
        Restrict(path);
    }

    /// <summary>Writes <paramref name="content"/> to a new owner-only file, via a temporary name so readers never see half of it.</summary>
    public static void WriteNewFile(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, Options(System.IO.FileMode.Create)))
            stream.Write(content);
        Restrict(temporary); // Create keeps the mode of a leftover temporary file
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Async twin of <see cref="WriteNewFile"/> for results objects.</summary>
    public static async Task WriteNewFileAsync(string path, byte[] content, CancellationToken cancellation)
    {
        var temporary = path + ".tmp";
        await using (var stream = new FileStream(temporary, Options(System.IO.FileMode.Create, FileOptions.Asynchronous)))
            await stream.WriteAsync(content, cancellation);
        Restrict(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    private static FileStreamOptions Options(System.IO.FileMode mode, FileOptions options = FileOptions.None)
    {
        var o = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None, Options = options };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = FileMode;
        return o;
    }
}
