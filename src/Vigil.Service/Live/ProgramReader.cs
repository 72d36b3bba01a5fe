using System.Diagnostics;
using Vigil.Media;
using Vigil.Transport;

namespace Vigil.Service.Live;

/// <summary>
/// One programme of a multiplex's shared receive (<see cref="MultiplexFeed"/>), read as an input of its own by
/// that programme stream's pipeline: its pictures, audio and bitstream events, and the transport findings on
/// its PIDs and on the multiplex as a whole, in the order the one demuxer produced them. Between the receive
/// and the programme's analysis is a bounded queue: once it is three-quarters full, pictures are dropped and
/// counted (<see cref="ShedFrames"/>), so one slow programme never holds the others back; audio and events are
/// never dropped (the receive waits for room instead, as a single stream's converter does).
/// </summary>
public sealed class ProgramReader : IMediaReader, IDisposable
{
    private readonly object _gate = new(); // a monitor: Read and Offer wait on it
    private readonly Queue<MediaItem> _queue = new();
    private readonly int _capacity, _shedAt;
    private readonly Func<MediaInfo> _info;
    private bool _ended, _interrupted, _closed;
    private string? _failure;
    private bool _stalled;
    private long _shed, _lastMediaTicks;

    /// <param name="info">What the programme holds now (the receive's view: it changes with a codec change).</param>
    /// <param name="transport">The receive's transport analysis (read only for its thread-safe counts).</param>
    internal ProgramReader(Func<MediaInfo> info, TransportAnalyzer? transport, int capacity)
    {
        _info = info;
        SharedTransport = transport;
        _capacity = Math.Max(2, capacity);
        _shedAt = Math.Max(1, _capacity * 3 / 4);
    }

    public MediaInfo Info => _info();

    /// <summary>The transport analysis of the shared receive; its counts by programme are safe to read from any thread.</summary>
    public TransportAnalyzer? SharedTransport { get; }

    /// <summary>Pictures dropped because this programme's analysis fell behind the receive.</summary>
    public long ShedFrames => Interlocked.Read(ref _shed);

    public long LastMediaTicks => Interlocked.Read(ref _lastMediaTicks);

    public MediaItem Read()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_interrupted) throw new OperationCanceledException("interrupted");
                if (_queue.TryDequeue(out var item))
                {
                    Monitor.PulseAll(_gate); // the receive may wait for room
                    return item;
                }
                if (_failure is { } failure) throw _stalled ? new MediaStalledException(failure) : new MediaException(failure);
                if (_ended) return new MediaItem(MediaItemKind.End);
                Monitor.Wait(_gate);
            }
        }
    }

    public void Interrupt()
    {
        lock (_gate)
        {
            _interrupted = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// The receive hands over an item (its thread). A picture is dropped while the queue is three-quarters full;
    /// anything else waits for room, but never past <paramref name="stop"/> or this reader's end. The item is
    /// released here when it is not queued.
    /// </summary>
    internal void Offer(MediaItem item, CancellationToken stop)
    {
        lock (_gate)
        {
            if (item.Video is not null && _queue.Count >= _shedAt && !_closed && !_interrupted)
            {
                _shed++;
                Interlocked.Exchange(ref _lastMediaTicks, Stopwatch.GetTimestamp()); // media arrived, even if not analysed
                Release(item);
                return;
            }
            while (_queue.Count >= _capacity && !_closed && !_interrupted && !stop.IsCancellationRequested)
                Monitor.Wait(_gate, 100);
            if (_closed || _interrupted || stop.IsCancellationRequested)
            {
                Release(item);
                return;
            }
            if (item.Kind is MediaItemKind.Video or MediaItemKind.Audio) Interlocked.Exchange(ref _lastMediaTicks, Stopwatch.GetTimestamp());
            _queue.Enqueue(item);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The receive's connection ended: once the queue is read, <see cref="Read"/> returns the end, or throws <paramref name="failure"/>.</summary>
    internal void End(Exception? failure)
    {
        lock (_gate)
        {
            _ended = true;
            _failure = failure?.Message;
            _stalled = failure is MediaStalledException;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The programme's analysis is done with this reader: what is still queued is released.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            while (_queue.TryDequeue(out var item)) Release(item);
            Monitor.PulseAll(_gate);
        }
    }

    private static void Release(MediaItem item)
    {
        item.Video?.Release();
        item.Audio?.Release();
    }
}
