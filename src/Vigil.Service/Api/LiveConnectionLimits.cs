namespace Vigil.Service.Api;

/// <summary>
/// Caps live event (SSE) connections, which each hold a socket, a subscriber queue and a task for as long
/// as the client likes: per caller (its key, or its address when reads are open) and in total. A caller
/// over its own share gets 429 (it can close one); the service full gets 503 (try later). Both answers
/// come before anything is subscribed.
/// </summary>
public sealed class LiveConnectionLimits(ServiceOptions options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _perPrincipal = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Connections refused since start.</summary>
    public long Refused
    {
        get { lock (_gate) return _refused; }
    }

    private long _refused;

    /// <summary>Live connections open now.</summary>
    public int Open
    {
        get { lock (_gate) return _total; }
    }

    /// <summary>A slot for <paramref name="principal"/>, or the status code and reason to refuse with.</summary>
    public (Lease? Lease, int Status, string? Reason) TryOpen(string principal)
    {
        lock (_gate)
        {
            var mine = _perPrincipal.GetValueOrDefault(principal);
            if (mine >= options.MaxSseConnectionsPerKey)
            {
                _refused++;
                return (null, 429, $"this key already has {mine} live connections open (at most {options.MaxSseConnectionsPerKey})");
            }
            if (_total >= options.MaxSseConnections)
            {
                _refused++;
                return (null, 503, $"the service has {_total} live connections open (at most {options.MaxSseConnections})");
            }
            _perPrincipal[principal] = mine + 1;
            _total++;
            return (new Lease(this, principal), 0, null);
        }
    }

    private void Close(string principal)
    {
        lock (_gate)
        {
            _total--;
            if (--_perPrincipal[principal] == 0) _perPrincipal.Remove(principal);
        }
    }

    /// <summary>One open connection; dispose when it ends (safe twice).</summary>
    public sealed class Lease(LiveConnectionLimits owner, string principal) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0) owner.Close(principal);
        }
    }
}
