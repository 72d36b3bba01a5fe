using Microsoft.Extensions.Logging;
using Npgsql;
using Vigil.Service.Store;

namespace Vigil.Cluster.Store;

/// <summary>
/// Every node's events, in id order, as they are committed: one connection LISTENs on
/// <c>vigil_events</c>, and each notification (or a quiet second, or a reconnect) reads the events after
/// the last one announced. Reading from the table rather than trusting notification payloads means a
/// dropped connection or a missed notification loses nothing.
/// </summary>
public sealed class EventFeed : IDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly PostgresStore _store;
    private readonly ILogger? _log;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _last;

    internal EventFeed(NpgsqlDataSource db, long startAfter, PostgresStore store, ILogger? log)
    {
        _db = db;
        _last = startAfter;
        _store = store;
        _log = log;
    }

    /// <summary>Raised for each event in id order, on the feed's thread.</summary>
    public event Action<StoredEvent>? Appended;

    /// <summary>Id of the last event announced.</summary>
    public long Last => Interlocked.Read(ref _last);

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _db.OpenConnectionAsync(stop);
                var woken = false;
                connection.Notification += (_, _) => woken = true;
                await using (var listen = new NpgsqlCommand("LISTEN vigil_events", connection)) await listen.ExecuteNonQueryAsync(stop);
                _store.Count();
                CatchUp();
                while (!stop.IsCancellationRequested)
                {
                    woken = false;
                    // a quiet second also reads: cheap insurance against a notification lost in a reconnect
                    var got = await connection.WaitAsync(TimeSpan.FromSeconds(1), stop);
                    if (got || woken || Interlocked.Read(ref _last) < PeekLast()) CatchUp();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                _log?.LogWarning("Event feed lost its connection ({Reason}); reconnecting", e.Message);
                try
                {
                    await Task.Delay(500, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private long _peekedAt;
    private bool _disposed;

    /// <summary>The counter, read at most every 5 s when nothing was heard.</summary>
    private long PeekLast()
    {
        var now = Environment.TickCount64;
        if (now - _peekedAt < 5000) return 0;
        _peekedAt = now;
        return _store.LastSeq;
    }

    private void CatchUp()
    {
        while (true)
        {
            var batch = _store.QueryEvents(null, null, Interlocked.Read(ref _last), 1000);
            foreach (var e in batch)
            {
                Interlocked.Exchange(ref _last, e.Seq);
                try
                {
                    Appended?.Invoke(e);
                }
                catch (Exception ex)
                {
                    _log?.LogError(ex, "An event subscriber failed");
                }
            }
            if (batch.Count < 1000) return;
        }
    }

    public void Dispose()
    {
        if (_disposed) return; // the store is disposed as itself and as IServiceStore
        _disposed = true;
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
