using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vigil.Transport;

namespace Vigil.Media;

/// <summary>
/// The managed end of the shim's transport tap: the input's raw bytes, handed over on the reading thread
/// (inside vg_open and vg_read) and fed, in place, to a <see cref="TransportAnalyzer"/>. What the analyser
/// finds waits here until <see cref="MediaSource.Read"/> hands it out, ahead of the item that vg_read returned.
/// The queue holds what one read of the input produced: bounded by the bytes of that read. On a live input
/// (<see cref="IsLiveInput"/>) each read's arrival time goes with its bytes, and the analyser also judges PCR
/// accuracy against it (<see cref="TransportOptions.PcrArrivalAccuracy"/>); a file's bytes carry none, so a
/// file's answer never depends on how fast it was read.
/// </summary>
internal sealed unsafe class TransportTap : ITransportEventSink, IDisposable
{
    private readonly Queue<TransportEvent> _pending = new();
    private GCHandle _self;

    private readonly bool _live;

    public TransportTap(TransportOptions? options, bool live)
    {
        Analyzer = new TransportAnalyzer(this, options);
        _live = live;
        _self = GCHandle.Alloc(this);
    }

    /// <summary>
    /// Whether <paramref name="url"/> is a live network input whose sender paces the bytes (udp, rtp, srt, rist,
    /// tcp): there the bytes' arrival time means something. Files, pipes and HTTP (pulled: a file served over
    /// HTTP comes as fast as it is read) are judged from their bytes alone.
    /// </summary>
    public static bool IsLiveInput(string url)
    {
        var colon = url.IndexOf("://", StringComparison.Ordinal);
        return colon > 0 && url[..colon].ToLowerInvariant() is "udp" or "rtp" or "srt" or "rist" or "tcp";
    }

    public TransportAnalyzer Analyzer { get; }

    /// <summary>The callback the shim calls, and its opaque argument.</summary>
    public static delegate* unmanaged<nint, byte*, int, int, long, void> Callback => &OnBytes;

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
    private static void OnBytes(nint opaque, byte* data, int size, int datagram, long arrivalNanoseconds)
    {
        var tap = (TransportTap)GCHandle.FromIntPtr(opaque).Target!;
        tap.LastBytesTicks = System.Diagnostics.Stopwatch.GetTimestamp();
        if (tap.Failure is not null) return;
        try
        {
            var bytes = new ReadOnlySpan<byte>(data, size);
            var arrival = tap._live ? arrivalNanoseconds : TransportAnalyzer.NoArrival;
            if (datagram != 0) tap.Analyzer.FeedDatagram(bytes, arrival);
            else tap.Analyzer.Feed(bytes, arrival);
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
