using Vigil.Media;

namespace Vigil.Tests.Support;

/// <summary>Tiny deterministic frames and audio blocks for kernel and detector tests without FFmpeg.</summary>
public static class Synthetic
{
    /// <summary>A limited-range frame filled with one luma value (16 is black).</summary>
    public static VideoFrame Flat(int width, int height, double pts, double duration, byte luma)
    {
        var frame = VideoFrame.Create(width, height, pts);
        frame.Duration = duration;
        frame.Luma.Fill(luma);
        return frame;
    }

    /// <summary>A frame of seeded random luma in [<paramref name="low"/>, <paramref name="high"/>]: textured, unlike any other seed.</summary>
    public static VideoFrame Noise(int width, int height, double pts, double duration, int seed, byte low = 40, byte high = 220)
    {
        var frame = VideoFrame.Create(width, height, pts);
        frame.Duration = duration;
        FillNoise(frame.Luma, seed, low, high);
        return frame;
    }

    public static void FillNoise(Span<byte> luma, int seed, byte low = 40, byte high = 220)
    {
        var random = new Random(seed);
        for (var i = 0; i < luma.Length; i++) luma[i] = (byte)random.Next(low, high + 1);
    }

    /// <summary>A block of <paramref name="channels"/> channels holding a sine of peak <paramref name="amplitude"/> (0 gives digital silence).</summary>
    public static AudioBlock Sine(int channels, int samples, int sampleRate, double pts, double amplitude, double frequency = 1000)
    {
        var block = AudioBlock.Create(channels, samples, sampleRate, pts);
        FillSine(block, amplitude, frequency);
        return block;
    }

    public static void FillSine(AudioBlock block, double amplitude, double frequency = 1000)
    {
        for (var c = 0; c < block.Channels; c++)
        {
            var samples = block.Channel(c);
            for (var i = 0; i < samples.Length; i++)
                samples[i] = (float)(amplitude * Math.Sin(2 * Math.PI * frequency * (block.Pts + i / (double)block.SampleRate)));
        }
    }
}
