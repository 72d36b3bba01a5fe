using System.Buffers;
using System.Diagnostics;
using Vigil.Media;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// The detector process's input in the object-storage design: replays one stream's converter items from the
/// store, second by second, in the converter's order. It waits (polling the orchestration database) until the
/// converter has finished a second, GETs that second's object and then each picture it lists, one GET per
/// picture as it is reached. When the pipeline asks for the item after a second's last one, every detector has
/// analysed that second: then one transition per detector is written. Single-threaded, like the pipeline that
/// reads it; frames must be released before the next <see cref="Read"/> (the inline pipeline does).
/// </summary>
public sealed class ObjectStoreReader : IMediaReader
{
    /// <summary>How long to wait for the converter's next second before failing (a stuck converter, not a slow one).</summary>
    public static readonly TimeSpan ConverterTimeout = TimeSpan.FromSeconds(120);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly int _stream;
    private readonly CountingObjectStore _store;
    private readonly Orchestration _orchestration;
    private readonly CancellationToken _cancel;
    private readonly CancellationTokenSource _interrupt = new();
    private List<HandoffObjects.SecondEntry> _entries = [];
    private int _next;
    private long _second = -1;
    private VideoFrame? _frame;
    private bool _ended;

    /// <param name="stream">Which stream of the run.</param>
    /// <param name="info">What the converter probed (for the detectors and the pipeline).</param>
    /// <param name="store">Where the objects are.</param>
    /// <param name="orchestration">This thread's connection to the orchestration database.</param>
    /// <param name="cancel">Stops the replay.</param>
    public ObjectStoreReader(int stream, MediaInfo info, CountingObjectStore store, Orchestration orchestration, CancellationToken cancel)
    {
        (_stream, Info, _store, _orchestration, _cancel) = (stream, info, store, orchestration, cancel);
    }

    public MediaInfo Info { get; }

    /// <summary>The detector kinds whose transitions are written per second (set before the first read).</summary>
    public IReadOnlyList<string> DetectorKinds { get; set; } = [];

    /// <summary>Seconds replayed so far.</summary>
    public long Seconds => _second + 1;

    /// <summary>Transitions written so far.</summary>
    public long Transitions { get; private set; }

    public MediaItem Read()
    {
        while (_next >= _entries.Count)
        {
            if (_second >= 0 && !_ended)
            {
                // everything of this second has been handed to the detectors: each records its state transition
                foreach (var kind in DetectorKinds) _orchestration.Transition(_stream, _second, kind);
                Transitions += DetectorKinds.Count;
            }
            if (_ended || !NextSecond()) return new MediaItem(MediaItemKind.End);
        }
        var entry = _entries[_next++];
        switch (entry.Kind)
        {
            case HandoffObjects.EntryKind.Frame:
            {
                var (buffer, length) = Get(HandoffObjects.FrameKey(_stream, entry.FrameSequence));
                try
                {
                    _frame = HandoffObjects.ReadFrame(buffer.AsSpan(0, length), _frame);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                return new MediaItem(MediaItemKind.Video, Video: _frame);
            }
            case HandoffObjects.EntryKind.Audio:
                return new MediaItem(MediaItemKind.Audio, Audio: entry.Audio);
            default:
                return new MediaItem(MediaItemKind.Event, Event: entry.Event);
        }
    }

    public void Interrupt() => _interrupt.Cancel();

    /// <summary>Waits for the converter's next second and fetches its object; false once the stream has ended.</summary>
    private bool NextSecond()
    {
        var wanted = _second + 1;
        var waited = Stopwatch.StartNew();
        while (!_orchestration.IsConverted(_stream, wanted))
        {
            if (_orchestration.EndedAfter(_stream) is { } seconds && wanted >= seconds)
            {
                _ended = true;
                return false;
            }
            if (waited.Elapsed > ConverterTimeout)
                throw new MediaException($"stream {_stream}: the converter finished no second {wanted} in {ConverterTimeout.TotalSeconds:0} s");
            Wait(PollInterval);
        }
        var (buffer, length) = Get(HandoffObjects.SecondKey(_stream, wanted));
        try
        {
            _entries = HandoffObjects.ReadSecond(buffer.AsSpan(0, length), out var second);
            if (second != wanted) throw new InvalidDataException($"object of second {wanted} says it is second {second}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _next = 0;
        _second = wanted;
        return true;
    }

    private (byte[] Buffer, int Length) Get(string key)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancel, _interrupt.Token);
        return _store.GetAsync(key, linked.Token).GetAwaiter().GetResult();
    }

    private void Wait(TimeSpan interval)
    {
        if (WaitHandle.WaitAny([_cancel.WaitHandle, _interrupt.Token.WaitHandle], interval) != WaitHandle.WaitTimeout)
            throw new OperationCanceledException("replay interrupted");
    }
}
