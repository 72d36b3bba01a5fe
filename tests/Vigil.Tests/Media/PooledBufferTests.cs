using Vigil.Media;

namespace Vigil.Tests.Media;

/// <summary>
/// Pooling and reference counting, shared by pictures and audio blocks (<see cref="PooledBuffer{TSelf, TElement}"/>):
/// an item goes back to its pool at the last release and not before, and a recycled item keeps its buffer.
/// </summary>
public sealed class PooledBufferTests
{
    [Fact]
    public void VideoFrame_ReleasedByEveryHolder_GoesBackToItsPoolOnlyAtTheLastRelease()
    {
        var pool = new FramePool<VideoFrame>(p => new VideoFrame(p, 64 * 48));
        var frame = pool.Rent();
        frame.Reset(64, 48, 0);
        frame.Retain();                        // a second holder (a snapshot writer, say)
        frame.Release();
        var other = pool.Rent();               // the frame is still held: the pool makes a new one
        Assert.NotSame(frame, other);
        frame.Release();
        Assert.Same(frame, pool.Rent());       // the last holder let go: recycled
    }

    [Fact]
    public void AudioBlock_ReleasedByEveryHolder_GoesBackToItsPoolOnlyAtTheLastRelease()
    {
        var pool = new FramePool<AudioBlock>(p => new AudioBlock(p, 2 * 1024));
        var block = pool.Rent();
        block.Reset(2, 1024, 48000, 0);
        block.Retain();
        block.Release();
        Assert.NotSame(block, pool.Rent());
        block.Release();
        Assert.Same(block, pool.Rent());
    }

    [Fact]
    public void VideoFrame_RecycledForALargerPicture_GrowsAndKeepsTheLargerBuffer()
    {
        var pool = new FramePool<VideoFrame>(p => new VideoFrame(p, 16 * 16));
        var frame = pool.Rent();
        frame.Reset(32, 32, 0);                // larger than the pool's initial capacity
        Assert.Equal(32 * 32, frame.Luma.Length);
        frame.Luma.Fill(200);
        frame.Release();
        var again = pool.Rent();
        Assert.Same(frame, again);
        again.Reset(16, 8, 1);                 // smaller: the same storage, viewed at the new size
        Assert.Equal(16 * 8, again.Luma.Length);
        Assert.Equal(16, again.Row(7).Length);
        Assert.All(again.Luma.ToArray(), b => Assert.Equal(200, b)); // not cleared: a reset does not touch the pixels
    }

    [Fact]
    public void AudioBlock_Channels_AreConsecutiveSpansOfTheSameBuffer()
    {
        var block = AudioBlock.Create(3, 4, 48000, 0);
        block.Channel(1).Fill(0.5f);
        Assert.Equal([0, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, 0], block.AllSamples.ToArray());
    }
}
