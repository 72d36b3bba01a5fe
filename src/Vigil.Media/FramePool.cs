using System.Collections.Concurrent;

namespace Vigil.Media;

/// <summary>
/// Recycles frames so steady-state decoding allocates nothing. Holds at most <see cref="MaxIdle"/>
/// idle frames; the pipeline's bounded channels bound how many are in flight.
/// </summary>
public sealed class FramePool<T>(Func<FramePool<T>, T> create, int maxIdle = 64) where T : class
{
    private readonly ConcurrentQueue<T> _idle = new();
    private int _idleCount;

    public int MaxIdle { get; } = maxIdle;

    public T Rent()
    {
        if (_idle.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _idleCount);
            return item;
        }
        return create(this);
    }

    internal void Return(T item)
    {
        if (Interlocked.Increment(ref _idleCount) <= MaxIdle) _idle.Enqueue(item);
        else Interlocked.Decrement(ref _idleCount);
    }
}
