using System.Globalization;
using System.Text;
using Vigil.Detectors.Audio;
using Vigil.Events;
using Vigil.Media;

namespace Vigil.Tools.Corpus;

/// <summary>A test signal for <see cref="ClippingDepths"/>: aevalsrc expressions (one per channel, '|' between).</summary>
public sealed record ClippingSignal(string Name, string Expressions);

/// <summary>One clip of the depth table: a signal raised <see cref="Depth"/> dB over full scale for 2 s, hard-clipped and encoded (depth 0: not raised, peak −0.2 dBFS: a trap).</summary>
public sealed record ClippingDepthResult(string Signal, string Codec, double Depth, IReadOnlyList<Defect> Defects)
{
    /// <summary>Whether a defect covers at least half of the clipped stretch (2–4 s); for a trap, whether any defect was raised.</summary>
    public bool Detected => Depth > 0
        ? Defects.Sum(d => Math.Max(0, Math.Min(d.End ?? double.MaxValue, ClippingDepths.ClipEnd) - Math.Max(d.Start, ClippingDepths.ClipStart)))
          >= 0.5 * (ClippingDepths.ClipEnd - ClippingDepths.ClipStart)
        : Defects.Count > 0;
}

/// <summary>
/// Detection of <c>audio.clipping</c> against clip depth, per codec: each signal (tones from 60 Hz to 3 kHz,
/// music-like mixes) is scaled to peak at −6 dBFS, raised by 6 + depth dB from 2 to 4 s of a 6 s clip, hard-clipped
/// at full scale (<c>asoftclip=type=hard</c>) and encoded; the detector (default options) runs on what the shim
/// decodes. Beside each codec the traps: the same signals unclipped at −0.2 dBFS, and a programme driven into a
/// brick-wall limiter. What <c>vigil corpus clipping-depth</c> prints and the README's table shows.
/// </summary>
public static class ClippingDepths
{
    public const double ClipStart = 2, ClipEnd = 4, Seconds = 6;
    public const int Rate = 48000;

    /// <summary>DB over full scale the clipped stretch is driven.</summary>
    public static readonly double[] Depths = [1, 2, 4, 8, 12];

    /// <summary>The codecs (name, file extension, ffmpeg arguments).</summary>
    public static readonly (string Name, string Extension, string Arguments)[] Codecs =
    [
        ("PCM s16", "wav", "-c:a pcm_s16le"),
        ("AAC 128k", "m4a", "-c:a aac -b:a 128k"),
        ("MP2 192k", "mp2", "-c:a mp2 -b:a 192k"),
        ("AC-3 192k", "ac3", "-c:a ac3 -b:a 192k"),
        ("Opus 96k", "opus", "-c:a libopus -b:a 96k"),
    ];

    /// <summary>The signals: stereo tones (the right channel shifted in phase) and the corpus's music-like mixes.</summary>
    public static readonly ClippingSignal[] Signals =
    [
        new("sine 60 Hz", Tone(60)),
        new("sine 300 Hz", Tone(300)),
        new("sine 1 kHz", Tone(1000)),
        new("sine 3 kHz", Tone(3000)),
        new("partials + tremolo", AudioCorpusGenerator.Music),
        new("bass + partials", AudioCorpusGenerator.Music2),
        new("programme", AudioCorpusGenerator.Programme),
    ];

    /// <summary>The brick-wall trap: the programme driven 18 dB into a look-ahead limiter at −0.1 dBFS.</summary>
    public const string LimiterFilter = "alimiter=level_in=8:limit=0.989:level=false";

    private static string Tone(double frequency) =>
        string.Create(CultureInfo.InvariantCulture, $"0.5*sin(2*PI*{frequency}*t)|0.5*sin(2*PI*{frequency}*t+0.7)");

    /// <summary>Generates every clip into <paramref name="directory"/> (reusing those already there) and runs the detector on each.</summary>
    public static async Task<IReadOnlyList<ClippingDepthResult>> RunAsync(string directory, TextWriter? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(directory);
        var results = new List<ClippingDepthResult>();
        foreach (var signal in Signals)
        {
            var slug = new string(signal.Name.Select(ch => char.IsLetterOrDigit(ch) ? ch : '-').ToArray());
            var source = Path.Combine(directory, $"{slug}.f32.wav");
            if (!File.Exists(source))
                await RunFfmpeg($"-f lavfi -i \"aevalsrc='{signal.Expressions}':s={Rate}:d={Seconds.ToString(CultureInfo.InvariantCulture)}\" -c:a pcm_f32le \"{source}\"", cancel);
            var peakDb = 20 * Math.Log10(Peak(source));
            progress?.WriteLine($"vigil corpus: clipping depths, {signal.Name} (peak {peakDb:0.00} dBFS)");
            foreach (var (codec, extension, arguments) in Codecs)
            {
                var codecSlug = new string(codec.Where(char.IsLetterOrDigit).ToArray());
                // the trap: the signal unclipped at −0.2 dBFS
                var trap = Path.Combine(directory, $"{slug}-{codecSlug}-trap.{extension}");
                if (!File.Exists(trap)) await RunFfmpeg(Invariant($"-i \"{source}\" -af volume={-0.2 - peakDb:0.####}dB {arguments} \"{trap}\""), cancel);
                results.Add(new ClippingDepthResult(signal.Name, codec, 0, Detect(trap)));
                foreach (var depth in Depths)
                {
                    var path = Path.Combine(directory, Invariant($"{slug}-{codecSlug}-{depth}dB.{extension}"));
                    var gain = -6 - peakDb;     // to −6 dBFS peak
                    var raise = 6 + depth;      // then over full scale by depth, for the clipped stretch
                    if (!File.Exists(path))
                        await RunFfmpeg(Invariant($"-i \"{source}\" -af \"volume={gain:0.####}dB,volume=enable='between(t\\,{ClipStart}\\,{ClipEnd})':volume={raise}dB,asoftclip=type=hard\" {arguments} \"{path}\""), cancel);
                    results.Add(new ClippingDepthResult(signal.Name, codec, depth, Detect(path)));
                }
            }
        }
        // the brick-wall-limited programme, per codec
        var programme = Path.Combine(directory, "programme.f32.wav");
        foreach (var (codec, extension, arguments) in Codecs)
        {
            var path = Path.Combine(directory, $"limited-{new string(codec.Where(char.IsLetterOrDigit).ToArray())}.{extension}");
            if (!File.Exists(path)) await RunFfmpeg($"-i \"{programme}\" -af \"{LimiterFilter}\" {arguments} \"{path}\"", cancel);
            results.Add(new ClippingDepthResult("limited master", codec, 0, Detect(path)));
        }
        return results;
    }

    /// <summary>The table as Markdown: per codec and depth, clips found of those clipped; then false alarms on the traps.</summary>
    public static string Table(IReadOnlyList<ClippingDepthResult> results)
    {
        var text = new StringBuilder();
        text.Append("| codec |");
        foreach (var depth in Depths) text.Append(Invariant($" +{depth} dB |"));
        text.AppendLine(" traps raising an event |");
        text.Append("|---|");
        foreach (var _ in Depths) text.Append("---:|");
        text.AppendLine("---:|");
        foreach (var (codec, _, _) in Codecs)
        {
            text.Append($"| {codec} |");
            foreach (var depth in Depths)
            {
                var cell = results.Where(r => r.Codec == codec && r.Depth == depth).ToList();
                text.Append($" {cell.Count(r => r.Detected)}/{cell.Count} |");
            }
            var traps = results.Where(r => r.Codec == codec && r.Depth == 0).ToList();
            text.AppendLine($" {traps.Count(r => r.Detected)}/{traps.Count} |");
        }
        var missed = results.Where(r => r.Depth > 0 && !r.Detected).Select(r => Invariant($"{r.Signal} {r.Codec} +{r.Depth} dB")).ToList();
        var alarms = results.Where(r => r.Depth == 0 && r.Detected).Select(r => $"{r.Signal} {r.Codec}").ToList();
        text.AppendLine();
        text.AppendLine($"Missed: {(missed.Count == 0 ? "none" : string.Join("; ", missed))}.");
        text.AppendLine($"False alarms: {(alarms.Count == 0 ? "none" : string.Join("; ", alarms))}.");
        return text.ToString();
    }

    private static IReadOnlyList<Defect> Detect(string path)
    {
        var sink = new DefectCollector();
        var detector = new ClippingDetector(new ClippingOptions(), sink);
        var end = 0.0;
        using (var source = MediaSource.Open(path, new MediaOpenOptions { Video = false, DecodeThreads = 1 }))
            while (source.Read() is { Kind: not MediaItemKind.End } item)
                if (item.Audio is { } block)
                {
                    detector.Process(block);
                    end = block.Pts + block.Duration;
                    block.Release();
                }
        detector.Flush(end, ClosedBy.EndOfInput);
        return sink.Ended;
    }

    private static float Peak(string path)
    {
        var peak = 0f;
        using var source = MediaSource.Open(path, new MediaOpenOptions { Video = false });
        while (source.Read() is { Kind: not MediaItemKind.End } item)
            if (item.Audio is { } block)
            {
                foreach (var x in block.AllSamples) peak = Math.Max(peak, Math.Abs(x));
                block.Release();
            }
        return peak;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static Task RunFfmpeg(string arguments, CancellationToken cancel) => FfmpegCli.RunAsync("-y -v error -nostdin " + arguments, cancel);
}
