using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Media;

namespace Vigil.Tests.Audio;

/// <summary>Audio clips generated with the ffmpeg CLI at test time, decoded through Vigil's own shim.</summary>
internal static partial class AudioClips
{
    private static readonly string Directory = CreateDirectory();

    /// <summary>Runs <c>ffmpeg -y ARGS OUT</c> once per name and test run; returns the output path.</summary>
    public static string Generate(string name, string arguments)
    {
        var path = Path.Combine(Directory, name);
        lock (Directory)
        {
            if (File.Exists(path)) return path;
            var error = Run("ffmpeg", $"-hide_banner -loglevel error -y {arguments} \"{path}.tmp{Path.GetExtension(name)}\"");
            if (error is not null) throw new InvalidOperationException($"ffmpeg failed for {name}: {error}");
            File.Move($"{path}.tmp{Path.GetExtension(name)}", path);
        }
        return path;
    }

    /// <summary>Decodes the audio of <paramref name="path"/> with <see cref="MediaSource"/> and hands every block to <paramref name="consume"/>.</summary>
    public static MediaInfo Decode(string path, Action<AudioBlock> consume)
    {
        using var source = MediaSource.Open(path, new MediaOpenOptions { Video = false });
        while (true)
        {
            var item = source.Read();
            if (item.Kind == MediaItemKind.End) return source.Info;
            if (item.Audio is { } block)
            {
                consume(block);
                block.Release();
            }
        }
    }

    /// <summary>What FFmpeg's ebur128 filter (with true peak) reports for the whole input.</summary>
    public static (double Integrated, double Range, double TruePeak) Ebur128(string path)
    {
        var info = new ProcessStartInfo("ffmpeg", $"-hide_banner -nostats -i \"{path}\" -af ebur128=peak=true -f null -") { RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var text = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var summary = text[text.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        double Value(string pattern) => double.Parse(Regex.Match(summary, pattern).Groups[1].Value, CultureInfo.InvariantCulture);
        return (Value(@"I:\s+(-?[\d.]+) LUFS"), Value(@"LRA:\s+(-?[\d.]+) LU"), Value(@"Peak:\s+(-?[\d.]+) dBFS"));
    }

    private static string? Run(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? null : stderr.Result;
    }

    private static string CreateDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-audio-tests-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(path, recursive: true); } catch (IOException) { }
        };
        return path;
    }
}
