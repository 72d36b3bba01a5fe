namespace Vigil.Media;

/// <summary>
/// A block of decoded audio as planar float PCM (full scale ±1.0), one span per channel.
/// Pooled and reference counted (<see cref="PooledBuffer{TSelf, TElement}"/>).
/// </summary>
public sealed class AudioBlock : PooledBuffer<AudioBlock, float>
{
    internal AudioBlock(FramePool<AudioBlock>? pool, int capacity) : base(pool, capacity)
    {
    }

    /// <summary>A free-standing block (tests, tools); not pooled.</summary>
    public static AudioBlock Create(int channels, int sampleCount, int sampleRate, double pts)
    {
        var block = new AudioBlock(null, channels * sampleCount);
        block.Reset(channels, sampleCount, sampleRate, pts);
        return block;
    }

    public int Channels { get; private set; }
    public int SampleCount { get; private set; }
    public int SampleRate { get; private set; }
    /// <summary>Media time in seconds of the first sample.</summary>
    public double Pts { get; set; }
    public double Duration => SampleRate > 0 ? SampleCount / (double)SampleRate : 0;

    public Span<float> Channel(int channel) => Storage.AsSpan(channel * SampleCount, SampleCount);

    /// <summary>All channels back to back (channel 0 first).</summary>
    public Span<float> AllSamples => Storage.AsSpan(0, Channels * SampleCount);

    internal void Reset(int channels, int sampleCount, int sampleRate, double pts)
    {
        Rearm(channels * sampleCount);
        Channels = channels;
        SampleCount = sampleCount;
        SampleRate = sampleRate;
        Pts = pts;
    }
}
