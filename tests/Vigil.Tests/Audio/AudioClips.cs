using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Tools;

namespace Vigil.Tests.Audio;

/// <summary>Audio clips (generated with <see cref="TestClips"/>) decoded through Vigil's own shim, and FFmpeg's loudness reference for them.</summary>
internal static partial class AudioClips
{
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
        var text = FfmpegCli.Run($"-hide_banner -nostats -i \"{path}\" -af ebur128=peak=true -f null -");
        var summary = text[text.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        double Value(string pattern) => double.Parse(Regex.Match(summary, pattern).Groups[1].Value, CultureInfo.InvariantCulture);
        return (Value(@"I:\s+(-?[\d.]+) LUFS"), Value(@"LRA:\s+(-?[\d.]+) LU"), Value(@"Peak:\s+(-?[\d.]+) dBFS"));
    }
}
