using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Notify;

/// <summary>
/// Delivers the webhook outbox. Each event was queued for its receivers in the same transaction that
/// stored it; this loop posts, for every (receiver, stream), only the oldest undelivered event, and
/// removes it once the receiver answered 2xx. A failure backs off exponentially (durably, in the row) up
/// to <see cref="ServiceOptions.WebhookMaxBackoffSeconds"/>, which is also how late the first delivery
/// comes after a receiver is back; the first success then makes its other streams' heads due at once.
/// Deliveries run side by side, so a receiver that hangs until its timeout delays no other.
/// Delivery is at least once: a request the receiver got but whose answer was lost (a timeout, a
/// shutdown) is sent again, with the same <c>Vigil-Event-Id</c>, which receivers deduplicate by.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    /// <summary>Header with the event's id (EVENTS.md): the idempotency key for receivers.</summary>
    public const string EventIdHeader = "Vigil-Event-Id";
    public const string StreamIdHeader = "Vigil-Stream-Id";
    /// <summary><c>sha256=HEX</c>: HMAC-SHA256 of the body with the webhook's secret.</summary>
    public const string SignatureHeader = "Vigil-Signature";

    private const int MaxInFlight = 32;

    private readonly IServiceStore _store;
    private readonly ServiceOptions _options;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly Dictionary<long, Task> _inFlight = [];      // outbox id → its delivery
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal); // receivers whose last attempt failed
    private readonly CancellationTokenSource _abandon = new();   // cancels deliveries still running after the shutdown grace

    public WebhookDispatcher(IServiceStore store, EventHub hub, ServiceOptions options, ILogger<WebhookDispatcher> log)
    {
        _store = store;
        _options = options;
        _log = log;
        var policy = NetworkPolicy.ForWebhooks(options.WebhookAllowedNetworks);
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = policy.GuardedConnect, // every connection is checked, also after DNS changes
            ConnectTimeout = TimeSpan.FromSeconds(options.WebhookConnectTimeoutSeconds),
            UseProxy = false,                        // a proxy would make the connect check about the proxy
            AllowAutoRedirect = false,               // a 3xx is a failed delivery, not an invitation elsewhere
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            Timeout = TimeSpan.FromSeconds(options.WebhookTimeoutSeconds),
        };
        hub.Published += _ => Wake();
    }

    /// <summary>Events delivered since start.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Failed delivery attempts since start.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    private long _delivered, _failures;

    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            StartDue();
            try
            {
                // new events and finished deliveries wake us at once; retries that come due are found by polling
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await FinishInFlightAsync();
    }

    private void StartDue()
    {
        IReadOnlyList<OutboxItem> due;
        try
        {
            due = _store.DueDeliveries(MaxInFlight * 2);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogError(e, "Reading the webhook outbox failed");
            return;
        }
        lock (_inFlight)
        {
            // one head per (receiver, stream) is due at a time, so running them side by side keeps each stream's order
            foreach (var item in due)
            {
                if (_inFlight.Count >= MaxInFlight) break;
                if (_inFlight.ContainsKey(item.Id)) continue;
                _inFlight[item.Id] = RunAsync(item);
            }
        }
    }

    private async Task RunAsync(OutboxItem item)
    {
        await Task.Yield(); // off the loop's thread before any work
        try
        {
            await DeliverAsync(item);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Webhook {WebhookId} delivery of event {EventId} failed unexpectedly", item.WebhookId, item.EventSeq);
        }
        finally
        {
            lock (_inFlight) _inFlight.Remove(item.Id);
            Wake();
        }
    }

    /// <summary>
    /// At shutdown, deliveries already sent get a moment to hear their answer (an answer lost now means the
    /// event goes again after the restart); after that they are abandoned and stay in the outbox.
    /// </summary>
    private async Task FinishInFlightAsync()
    {
        Task[] running;
        lock (_inFlight) running = _inFlight.Values.ToArray();
        if (running.Length == 0) return;
        _abandon.CancelAfter(TimeSpan.FromSeconds(Math.Min(5, _options.WebhookTimeoutSeconds)));
        await Task.WhenAll(running);
    }

    private async Task DeliverAsync(OutboxItem item)
    {
        string error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, item.Url)
            {
                Content = new StringContent(item.Json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.Add(EventIdHeader, item.EventSeq.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(StreamIdHeader, item.StreamId);
            if (!string.IsNullOrEmpty(item.Secret))
                request.Headers.Add(SignatureHeader, "sha256=" + Convert.ToHexStringLower(
                    HMACSHA256.HashData(Encoding.UTF8.GetBytes(item.Secret), Encoding.UTF8.GetBytes(item.Json))));
            using var response = await _http.SendAsync(request, _abandon.Token);
            if (response.IsSuccessStatusCode)
            {
                _store.Delivered(item.Id);
                Interlocked.Increment(ref _delivered);
                bool recovered;
                lock (_failing) recovered = _failing.Remove(item.WebhookId);
                if (recovered)
                {
                    _store.RetryNow(item.WebhookId);
                    _log.LogInformation("Webhook {WebhookId} answers again; delivering its backlog", item.WebhookId);
                }
                return;
            }
            error = $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            return; // shutting down: the row stays and goes again after the restart
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            error = e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message;
        }
        lock (_failing) _failing.Add(item.WebhookId);
        var attempts = item.Attempts + 1;
        var delay = Math.Min(_options.WebhookMaxBackoffSeconds, _options.WebhookMinBackoffSeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        _store.DeliveryFailed(item.Id, attempts, delay, error);
        Interlocked.Increment(ref _failures);
        if (attempts == 1 || attempts % 10 == 0)
            _log.LogWarning("Webhook {WebhookId} delivery of event {EventId} failed ({Error}); attempt {Attempt}, retry in {Delay:0.0} s",
                item.WebhookId, item.EventSeq, error, attempts, delay);
    }

    public override void Dispose()
    {
        _http.Dispose();
        _wake.Dispose();
        _abandon.Dispose();
        base.Dispose();
    }
}
