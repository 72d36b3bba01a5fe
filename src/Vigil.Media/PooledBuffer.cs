namespace Vigil.Media;

/// <summary>
/// What <see cref="VideoFrame"/> and <see cref="AudioBlock"/> share: a buffer of <typeparamref name="TElement"/>
/// that grows to the largest size asked of it, recycled through a <see cref="FramePool{T}"/> and reference
/// counted. Whoever holds one past the call that handed it over calls <see cref="Retain"/>, and every holder
/// calls <see cref="Release"/> once; the last release returns it to its pool (a free-standing one, built
/// without a pool, is left to the garbage collector). Steady-state decoding so allocates nothing.
/// </summary>
/// <typeparam name="TSelf">The derived type, which is what its pool holds.</typeparam>
/// <typeparam name="TElement">A sample: a luma byte, a PCM float.</typeparam>
public abstract class PooledBuffer<TSelf, TElement> where TSelf : PooledBuffer<TSelf, TElement>
{
    private readonly FramePool<TSelf>? _pool;
    private int _references;

    private protected PooledBuffer(FramePool<TSelf>? pool, int capacity)
    {
        _pool = pool;
        Storage = new TElement[capacity];
    }

    /// <summary>The buffer; at least as long as the size of the last <see cref="Rearm"/>.</summary>
    private protected TElement[] Storage { get; private set; }

    /// <summary>Readies the item for a new use: room for <paramref name="size"/> elements, one holder.</summary>
    private protected void Rearm(int size)
    {
        if (Storage.Length < size) Storage = new TElement[size];
        _references = 1;
    }

    /// <summary>One more holder: it keeps the item past the call that handed it over.</summary>
    public void Retain() => Interlocked.Increment(ref _references);

    /// <summary>A holder is done with the item; the last one returns it to its pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) _pool?.Return((TSelf)this);
    }
}
