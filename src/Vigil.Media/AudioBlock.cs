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

    /// <summary>A free-standing block (tests, tools); not pooled. Without <paramref name="roles"/>, FFmpeg's default layout for the count.</summary>
    public static AudioBlock Create(int channels, int sampleCount, int sampleRate, double pts, ChannelRole[]? roles = null)
    {
        var block = new AudioBlock(null, channels * sampleCount);
        block.Reset(channels, sampleCount, sampleRate, pts);
        block.Roles = roles ?? ChannelLayouts.Default(channels);
        return block;
    }

    public int Channels { get; private set; }
    public int SampleCount { get; private set; }
    public int SampleRate { get; private set; }
    /// <summary>Media time in seconds of the first sample.</summary>
    public double Pts { get; set; }
    public double Duration => SampleRate > 0 ? SampleCount / (double)SampleRate : 0;

    /// <summary>
    /// The role of each channel in the stream's layout (front left, LFE, ...), as the decoder labels it.
    /// Shared by the blocks of one layout: do not modify.
    /// </summary>
    public IReadOnlyList<ChannelRole> Roles { get; internal set; } = [];

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
