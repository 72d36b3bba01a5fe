using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vigil.Transport;

namespace Vigil.Media;

/// <summary>
/// The managed end of the shim's transport tap: the input's raw bytes, handed over on the reading thread
/// (inside vg_open and vg_read) and fed, in place, to a <see cref="TransportAnalyzer"/>. What the analyser
/// finds waits here until <see cref="MediaSource.Read"/> hands it out, ahead of the item that vg_read returned.
/// The queue holds what one read of the input produced: bounded by the bytes of that read.
/// </summary>
internal sealed unsafe class TransportTap : ITransportEventSink, IDisposable
{
    private readonly Queue<TransportEvent> _pending = new();
    private GCHandle _self;

    public TransportTap(TransportOptions? options)
    {
        Analyzer = new TransportAnalyzer(this, options);
        _self = GCHandle.Alloc(this);
    }

    public TransportAnalyzer Analyzer { get; }

    /// <summary>The callback the shim calls, and its opaque argument.</summary>
    public static delegate* unmanaged<nint, byte*, int, int, void> Callback => &OnBytes;

    public nint Opaque => GCHandle.ToIntPtr(_self);

    /// <summary>Set when the analyser failed (a bug): it then ignores the rest of the input rather than stop the analysis.</summary>
    public string? Failure { get; private set; }

    public int Pending => _pending.Count;

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> ticks of the latest bytes read from the input; 0 before any. Reading thread only.</summary>
    public long LastBytesTicks { get; private set; }

    public bool TryTake(out TransportEvent e) => _pending.TryDequeue(out e);

    public void Clear() => _pending.Clear();

    void ITransportEventSink.OnTransportEvent(in TransportEvent transportEvent) => _pending.Enqueue(transportEvent);

    [UnmanagedCallersOnly]
    private static void OnBytes(nint opaque, byte* data, int size, int datagram)
    {
        var tap = (TransportTap)GCHandle.FromIntPtr(opaque).Target!;
        tap.LastBytesTicks = System.Diagnostics.Stopwatch.GetTimestamp();
        if (tap.Failure is not null) return;
        try
        {
            var bytes = new ReadOnlySpan<byte>(data, size);
            if (datagram != 0) tap.Analyzer.FeedDatagram(bytes);
            else tap.Analyzer.Feed(bytes);
        }
        catch (Exception e)
        {
            // nothing may unwind into native code
            tap.Failure = e.Message;
        }
    }

    public void Dispose()
    {
        if (_self.IsAllocated) _self.Free();
    }
}
