using Vigil.Media;

namespace Vigil.Tests.Audio;

/// <summary>Synthesised test audio: exact signals fed to meters and detectors in decoder-sized blocks.</summary>
internal static class Signals
{
    /// <summary>Amplitude of a level in dBFS.</summary>
    public static double Amplitude(double dbfs) => Math.Pow(10, dbfs / 20);

    /// <summary>
    /// Cuts <paramref name="seconds"/> of <paramref name="sample"/> (channel, sample index → value) into
    /// blocks of <paramref name="blockSize"/> samples and hands each to <paramref name="consume"/>.
    /// </summary>
    public static void Feed(int sampleRate, int channels, double seconds, Func<int, long, double> sample,
        Action<AudioBlock> consume, int blockSize = 1024, double startPts = 0, long firstSample = 0)
    {
        var total = (long)Math.Round(seconds * sampleRate);
        for (long start = 0; start < total; start += blockSize)
        {
            var n = (int)Math.Min(blockSize, total - start);
            var block = AudioBlock.Create(channels, n, sampleRate, startPts + start / (double)sampleRate);
            for (var c = 0; c < channels; c++)
            {
                var span = block.Channel(c);
                for (var i = 0; i < n; i++) span[i] = (float)sample(c, firstSample + start + i);
            }
            consume(block);
        }
    }

    /// <summary>A sine of <paramref name="frequency"/> Hz and peak <paramref name="dbfs"/> on every channel.</summary>
    public static Func<int, long, double> Sine(double frequency, double dbfs, int sampleRate, double phase = 0)
    {
        var a = Amplitude(dbfs);
        return (_, n) => a * Math.Sin(2 * Math.PI * frequency * n / sampleRate + phase);
    }

    /// <summary>Consecutive segments of a 1 kHz stereo sine at the given levels (dBFS peak; ≤ −200 is silence), as in EBU Tech 3341/3342.</summary>
    public static Func<int, long, double> Steps(int sampleRate, params (double Seconds, double Dbfs)[] segments)
    {
        var bounds = new List<(long End, double Amplitude)>();
        long end = 0;
        foreach (var (seconds, dbfs) in segments)
        {
            end += (long)Math.Round(seconds * sampleRate);
            bounds.Add((end, dbfs <= -200 ? 0 : Amplitude(dbfs)));
        }
        return (_, n) =>
        {
            foreach (var (e, a) in bounds)
                if (n < e) return a * Math.Sin(2 * Math.PI * 1000 * n / sampleRate);
            return 0;
        };
    }

    public static double Seconds(params (double Seconds, double Dbfs)[] segments) => segments.Sum(s => s.Seconds);
}
