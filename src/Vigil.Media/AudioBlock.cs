namespace Vigil.Media;

/// <summary>
/// A block of decoded audio as planar float PCM (full scale ±1.0), one span per channel.
/// Pooled and reference counted like <see cref="VideoFrame"/>.
/// </summary>
public sealed class AudioBlock
{
    private readonly FramePool<AudioBlock>? _pool;
    private float[] _samples;
    private int _references;

    internal AudioBlock(FramePool<AudioBlock>? pool, int capacity)
    {
        _pool = pool;
        _samples = new float[capacity];
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

    public Span<float> Channel(int channel) => _samples.AsSpan(channel * SampleCount, SampleCount);

    /// <summary>All channels back to back (channel 0 first).</summary>
    public Span<float> AllSamples => _samples.AsSpan(0, Channels * SampleCount);

    internal void Reset(int channels, int sampleCount, int sampleRate, double pts)
    {
        var size = channels * sampleCount;
        if (_samples.Length < size) _samples = new float[size];
        Channels = channels;
        SampleCount = sampleCount;
        SampleRate = sampleRate;
        Pts = pts;
        _references = 1;
    }

    public void Retain() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) _pool?.Return(this);
    }
}
