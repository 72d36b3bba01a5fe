using System.Globalization;
using Vigil.Media;

namespace Vigil.Tools.Corpus;

/// <summary>
/// One labelled audio clip: what it carries by construction — a kind and the seconds it holds (for a
/// per-channel defect, on which channel) — or, with no kind, a trap that must raise nothing.
/// </summary>
public sealed record AudioCorpusClip(string Name, string Path, string? Kind, string Description, IReadOnlyList<(double Start, double End)> Truth, int? Channel = null)
{
    /// <summary>Whether the clip carries a defect of <paramref name="kind"/> at <paramref name="t"/> (seconds).</summary>
    public bool Holds(string kind, double t) => Kind == kind && Truth.Any(s => t >= s.Start && t < s.End);
}

/// <summary>
/// Generates the labelled audio corpus with the ffmpeg CLI, 6–8 s clips whose truth is known by construction.
/// Clipping: a tone or a music-like mix (three partials with a tremolo) raised over full scale for a known
/// stretch and hard-clipped (<c>asoftclip=type=hard</c>), at several depths, frequencies, levels, sample rates
/// and channel counts, then encoded (PCM, AAC, MP2, AC-3, Opus). Its traps: clean tones at −0.2 dBFS, limited
/// masters (alimiter, loudnorm at −1..−0.1 dBTP), dense music normalised to peak just under full scale.
/// Silence: a 5.1 programme whose centre dies; its trap: 5.1 with the LFE silent throughout.
/// </summary>
public sealed class AudioCorpusGenerator(string directory)
{
    public const string Clipping = "audio.clipping", Silence = "audio.silence";

    /// <summary>Music-like: three partials with a 5 Hz tremolo (peak −3.9 dBFS), a different mix on the right.</summary>
    public const string Music =
        "(0.25*sin(2*PI*220*t)+0.15*sin(2*PI*330*t+1)+0.1*sin(2*PI*550*t+2))*(1+0.3*sin(2*PI*5*t))" +
        "|(0.25*sin(2*PI*220*t+0.4)+0.15*sin(2*PI*330*t+1.7)+0.1*sin(2*PI*550*t+2.5))*(1+0.3*sin(2*PI*5*t+1))";

    /// <summary>Another music-like mix: a bass note and two partials a fifth and an octave and a half up, a slower tremolo.</summary>
    public const string Music2 =
        "(0.3*sin(2*PI*147*t)+0.16*sin(2*PI*441*t+2)+0.12*sin(2*PI*735*t+4))*(1+0.25*sin(2*PI*3.1*t))" +
        "|(0.3*sin(2*PI*147*t+0.9)+0.16*sin(2*PI*441*t+0.3)+0.12*sin(2*PI*735*t+1.1))*(1+0.25*sin(2*PI*3.1*t+2))";

    /// <summary>Programme-like stereo: bass and mid tones, a high tone, noise "drum" hits every 0.5 s (peak about −3.4 dBFS).</summary>
    public const string Programme =
        "0.24*sin(2*PI*110*t)+0.16*sin(2*PI*440*t+sin(2*PI*5*t))+0.06*sin(2*PI*2500*t)+0.5*(random(0)-0.5)*exp(-20*mod(t\\,0.5))" +
        "|0.2*sin(2*PI*110*t+0.3)+0.18*sin(2*PI*660*t)+0.06*sin(2*PI*3300*t)+0.5*(random(1)-0.5)*exp(-20*mod(t\\,0.5))";

    /// <summary>Dense: ten partials from 65 Hz to 1 kHz and noise, slowly swelling.</summary>
    public const string Dense =
        "(0.12*sin(2*PI*65*t)+0.1*sin(2*PI*131*t+1)+0.09*sin(2*PI*196*t+2)+0.08*sin(2*PI*262*t+3)+0.07*sin(2*PI*330*t+4)+0.06*sin(2*PI*392*t+5)" +
        "+0.05*sin(2*PI*523*t+6)+0.05*sin(2*PI*659*t+0.5)+0.04*sin(2*PI*784*t+1.5)+0.04*sin(2*PI*1047*t+2.5)+0.25*(random(0)-0.5))*(1+0.3*sin(2*PI*0.7*t))" +
        "|(0.12*sin(2*PI*65*t+0.7)+0.1*sin(2*PI*131*t+1.9)+0.09*sin(2*PI*196*t+0.2)+0.08*sin(2*PI*262*t+1.3)+0.07*sin(2*PI*330*t+2.4)+0.06*sin(2*PI*392*t+3.5)" +
        "+0.05*sin(2*PI*523*t+4.6)+0.05*sin(2*PI*659*t+5.5)+0.04*sin(2*PI*784*t+0.1)+0.04*sin(2*PI*1047*t+1.1)+0.25*(random(1)-0.5))*(1+0.3*sin(2*PI*0.9*t))";

    private const string Pcm = "-c:a pcm_s16le", Aac = "-c:a aac -b:a 128k", Mp2 = "-c:a mp2 -b:a 192k",
        Ac3 = "-c:a ac3 -b:a 192k", Opus = "-c:a libopus -b:a 96k";

    /// <summary>Generates every clip (skipping ones already there).</summary>
    public async Task<IReadOnlyList<AudioCorpusClip>> GenerateAsync(CancellationToken cancel = default)
    {
        Directory.CreateDirectory(directory);
        var clips = new List<AudioCorpusClip>
        {
            // the three cases of issue 11.1
            await ClippedAsync("clip-sine300-pcm", Tone(300, -6, 2), 8, 2, 4, "wav", Pcm, 48000, "300 Hz at −6 dBFS raised 8 dB (+2 dB over full scale), PCM", cancel),
            await ClippedAsync("clip-sine220-aac", Tone(220, -6, 2), 8, 2, 4, "m4a", Aac, 48000, "220 Hz at −6 dBFS raised 8 dB, AAC 128k", cancel),
            await ClippedAsync("clip-music-mp2", Music, 20 * Math.Log10(2.2), 1.5, 4.5, "mp2", Mp2, 48000, "three partials with a tremolo ×2.2, MP2 192k", cancel),
            // depths, codecs, rates, channel counts
            await ClippedAsync("clip-sine997-ac3-4db", Tone(997, -12, 2), 16, 2, 4, "ac3", Ac3, 48000, "997 Hz at −12 dBFS +16 dB (+4 over), AC-3 192k", cancel),
            await ClippedAsync("clip-sine1500-opus-12db", Tone(1500, -20, 2), 32, 2, 3.5, "opus", Opus, 48000, "1.5 kHz at −20 dBFS +32 dB (+12 over), Opus 96k", cancel),
            await ClippedAsync("clip-sine100-pcm44-mono", Tone(100, -6, 1), 8, 2.5, 4.5, "wav", Pcm, 44100, "100 Hz mono at 44.1 kHz, +2 over, PCM", cancel),
            await ClippedAsync("clip-sine440-mp2-44k-8db", Tone(440, -6, 2), 14, 2, 4, "mp2", Mp2, 44100, "440 Hz at 44.1 kHz, +8 over, MP2 192k", cancel),
            await ClippedAsync("clip-music-aac-4db", Music, 7.9, 2, 4, "m4a", Aac, 44100, "three partials +4 dB over, AAC 128k at 44.1 kHz", cancel),
            await ClippedAsync("clip-music2-opus", Music2, 20 * Math.Log10(3), 2, 4, "opus", Opus, 48000, "bass and partials ×3, Opus 96k", cancel),
            await ClippedAsync("clip-music2-ac3-8db", Music2, 11, 1.5, 3.5, "ac3", Ac3, 44100, "bass and partials +8 dB over, AC-3 at 44.1 kHz", cancel),
            await ClippedAsync("clip-programme-pcm-12db", Programme, 15.4, 2, 3.5, "wav", Pcm, 48000, "programme-like +12 dB over, PCM", cancel),
            await ClippedAsync("clip-surround-ac3", Surround51Tones, 16, 2, 4, "ac3", "-c:a ac3 -b:a 384k", 48000, "5.1, a tone on each channel at −12 dBFS +16 dB (+4 over), AC-3 384k", cancel, layout: "5.1"),
            // clipping traps
            await TrapAsync("trap-sine997-0.2dB-pcm", Tone(997, -0.2, 2), "", "wav", Pcm, 48000, "997 Hz at −0.2 dBFS, PCM", cancel),
            await TrapAsync("trap-sine100-0.2dB-aac", Tone(100, -0.2, 2), "", "m4a", Aac, 48000, "100 Hz at −0.2 dBFS, AAC 128k", cancel),
            await TrapAsync("trap-sine440-0.2dB-opus", Tone(440, -0.2, 1), "", "opus", Opus, 48000, "440 Hz mono at −0.2 dBFS, Opus 96k", cancel),
            await TrapAsync("trap-limited-programme-aac", Programme, "alimiter=level_in=8:limit=0.891:level=false", "m4a", Aac, 48000,
                "programme driven 18 dB into alimiter at −1 dBFS, AAC 128k", cancel),
            await TrapAsync("trap-limited-dense-pcm", Dense, "alimiter=level_in=4:limit=0.977:level=false", "wav", Pcm, 44100,
                "dense music driven 12 dB into alimiter at −0.2 dBFS, PCM 44.1 kHz", cancel),
            await TrapAsync("trap-loudnorm-music-mp2", Music, "loudnorm=I=-11:TP=-0.5:LRA=7,aresample=48000", "mp2", Mp2, 48000,
                "three partials loudness-normalised to −11 LUFS, −0.5 dBTP, MP2", cancel),
            await TrapAsync("trap-loudnorm-programme-ac3", Programme, "loudnorm=I=-9:TP=-1:LRA=7,aresample=48000", "ac3", Ac3, 48000,
                "programme loudness-normalised to −9 LUFS, −1 dBTP, AC-3", cancel),
            await PeakNormalisedAsync("trap-dense-peak-pcm", Dense, -0.3, "wav", Pcm, "dense music normalised to peak −0.3 dBFS, PCM", cancel),
            await PeakNormalisedAsync("trap-dense-peak-aac", Dense, -0.1, "m4a", Aac, "dense music normalised to peak −0.1 dBFS, AAC 128k", cancel),
            // 5.1: a dead centre, and the silent LFE that is normal
            await SurroundAsync("silence-51-dead-centre-ac3", "between(t\\,2\\,6)", "ac3", "-c:a ac3 -b:a 384k", "5.1 AC-3, centre dead 2–6 s, LFE silent",
                [(2, 6)], Silence, 2, cancel),
            await SurroundAsync("silence-51-dead-centre-aac", "between(t\\,3\\,7)", "m4a", "-c:a aac -b:a 384k", "5.1 AAC, centre dead 3–7 s, LFE silent",
                [(3, 7)], Silence, 2, cancel),
            await SurroundAsync("trap-51-silent-lfe-ac3", null, "ac3", "-c:a ac3 -b:a 384k", "5.1 AC-3, LFE silent throughout", [], null, null, cancel),
            await SurroundAsync("trap-51-silent-lfe-wav", null, "wav", Pcm, "5.1 PCM WAV, LFE silent throughout", [], null, null, cancel),
        };
        return clips;
    }

    /// <summary>A sine of <paramref name="frequency"/> Hz peaking at <paramref name="levelDb"/> dBFS on each of <paramref name="channels"/> channels (shifted in phase).</summary>
    public static string Tone(double frequency, double levelDb, int channels)
    {
        var amplitude = Math.Pow(10, levelDb / 20);
        return string.Join("|", Enumerable.Range(0, channels).Select(c => string.Create(CultureInfo.InvariantCulture, $"{amplitude:0.######}*sin(2*PI*{frequency}*t+{0.7 * c:0.0})")));
    }

    /// <summary>Six tones at −12 dBFS (FL FR FC LFE BL BR: 300, 400, 500, 60, 600, 700 Hz).</summary>
    private const string Surround51Tones =
        "0.25*sin(2*PI*300*t)|0.25*sin(2*PI*400*t)|0.25*sin(2*PI*500*t)|0.25*sin(2*PI*60*t)|0.25*sin(2*PI*600*t)|0.25*sin(2*PI*700*t)";

    private async Task<AudioCorpusClip> ClippedAsync(string name, string expressions, double gainDb, double start, double end, string extension,
        string codec, int rate, string description, CancellationToken cancel, string? layout = null)
    {
        var path = System.IO.Path.Combine(directory, $"{name}.{extension}");
        var filter = string.Create(CultureInfo.InvariantCulture, $"volume=enable='between(t\\,{start}\\,{end})':volume={gainDb:0.###}dB,asoftclip=type=hard");
        if (!File.Exists(path)) await Encode(Source(expressions, rate, 6, layout), filter, codec, path, cancel);
        return new AudioCorpusClip(name, path, Clipping, description, [(start, end)]);
    }

    private async Task<AudioCorpusClip> TrapAsync(string name, string expressions, string filter, string extension, string codec, int rate,
        string description, CancellationToken cancel)
    {
        var path = System.IO.Path.Combine(directory, $"{name}.{extension}");
        if (!File.Exists(path)) await Encode(Source(expressions, rate, 6), filter, codec, path, cancel);
        return new AudioCorpusClip(name, path, null, description, []);
    }

    /// <summary>A trap scaled so that its highest sample lies at <paramref name="peakDb"/> dBFS: rendered in float, measured, scaled, encoded.</summary>
    private async Task<AudioCorpusClip> PeakNormalisedAsync(string name, string expressions, double peakDb, string extension, string codec,
        string description, CancellationToken cancel)
    {
        var path = System.IO.Path.Combine(directory, $"{name}.{extension}");
        if (!File.Exists(path))
        {
            var raw = System.IO.Path.Combine(directory, $"{name}.float.wav");
            await Encode(Source(expressions, 48000, 6), "", "-c:a pcm_f32le", raw, cancel);
            var peak = 0f;
            using (var source = MediaSource.Open(raw, new MediaOpenOptions { Video = false }))
                while (source.Read() is { Kind: not MediaItemKind.End } item)
                    if (item.Audio is { } block)
                    {
                        foreach (var x in block.AllSamples) peak = Math.Max(peak, Math.Abs(x));
                        block.Release();
                    }
            var gain = peakDb - 20 * Math.Log10(peak);
            await RunAsync(string.Create(CultureInfo.InvariantCulture, $"-i \"{raw}\" -af volume={gain:0.####}dB {codec} \"{path}\""), cancel);
            File.Delete(raw);
        }
        return new AudioCorpusClip(name, path, null, description, []);
    }

    /// <summary>8 s of 5.1 (FL FR FC LFE BL BR, a tone each at −20 dBFS), the LFE silent, the centre silent while <paramref name="centreDead"/>.</summary>
    private async Task<AudioCorpusClip> SurroundAsync(string name, string? centreDead, string extension, string codec, string description,
        IReadOnlyList<(double, double)> truth, string? kind, int? channel, CancellationToken cancel)
    {
        var path = System.IO.Path.Combine(directory, $"{name}.{extension}");
        var centre = centreDead is null ? "0.1*sin(2*PI*500*t)" : $"if({centreDead}\\,0\\,0.1*sin(2*PI*500*t))";
        var expressions = $"0.1*sin(2*PI*300*t)|0.1*sin(2*PI*400*t)|{centre}|0|0.1*sin(2*PI*600*t)|0.1*sin(2*PI*700*t)";
        if (!File.Exists(path)) await Encode(Source(expressions, 48000, 8, "5.1"), "", codec, path, cancel);
        return new AudioCorpusClip(name, path, kind, description, truth, channel);
    }

    private static string Source(string expressions, int rate, double seconds, string? layout = null) =>
        string.Create(CultureInfo.InvariantCulture, $"-f lavfi -i \"aevalsrc='{expressions}':s={rate}:d={seconds}{(layout is null ? "" : $":c={layout}")}\"");

    private static Task Encode(string input, string filter, string codec, string path, CancellationToken cancel) =>
        RunAsync($"{input} {(filter.Length > 0 ? $"-af \"{filter}\" " : "")}{codec} \"{path}\"", cancel);

    private static Task RunAsync(string arguments, CancellationToken cancel) => FfmpegCli.RunAsync("-y -v error -nostdin " + arguments, cancel);
}
