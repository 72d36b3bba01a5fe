using Vigil.Media;

namespace Vigil.Tools.Corpus;

/// <summary>
/// Which frames of a damaged stream a viewer would see as damaged: both streams are decoded with the
/// same FFmpeg (through <see cref="MediaSource"/>, full-resolution luma) and every damaged frame is
/// compared with the clean frame of the same presentation time. Frames the damaged stream lacks
/// (dropped whole) are not counted; frames below the PSNR threshold (35 dB by default) are damaged.
/// </summary>
public static class GroundTruth
{
    public const double DefaultPsnrThreshold = 35;

    public static HashSet<long> DamagedFrames(string clean, string damaged, double psnrThreshold = DefaultPsnrThreshold)
    {
        var reference = new Dictionary<long, byte[]>();
        using (var source = Open(clean))
            foreach (var frame in Frames(source))
            {
                reference[CorpusClip.Key(frame.Pts)] = frame.Luma.ToArray();
                frame.Release();
            }

        var damagedFrames = new HashSet<long>();
        using (var source = Open(damaged))
            foreach (var frame in Frames(source))
            {
                var key = CorpusClip.Key(frame.Pts);
                if (reference.TryGetValue(key, out var clean2) && clean2.Length == frame.Luma.Length && Psnr(clean2, frame.Luma) < psnrThreshold)
                    damagedFrames.Add(key);
                frame.Release();
            }
        return damagedFrames;
    }

    /// <summary>Luma PSNR in dB (infinity when identical).</summary>
    public static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        long sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            sum += d * d;
        }
        if (sum == 0) return double.PositiveInfinity;
        var mse = sum / (double)a.Length;
        return 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    private static MediaSource Open(string path) =>
        MediaSource.Open(path, new MediaOpenOptions { AnalysisMaxWidth = 0, Audio = false, GridStatistics = false, DecodeThreads = 1 });

    private static IEnumerable<VideoFrame> Frames(MediaSource source)
    {
        while (true)
        {
            var item = source.Read();
            if (item.Kind == MediaItemKind.End) yield break;
            if (item.Video is { } frame) yield return frame;
        }
    }
}
