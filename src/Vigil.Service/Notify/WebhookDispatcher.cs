using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service.Store;

namespace Vigil.Service.Notify;

/// <summary>
/// Delivers the webhook outbox. Each event was queued for its receivers in the same transaction that
/// stored it; this loop posts, for every (receiver, stream), only the oldest undelivered event, and
/// removes it once the receiver answered 2xx. A failure backs off exponentially (durably, in the row),
/// so a receiver that is away for minutes gets every event once it is back, each stream in order.
/// Delivery is at least once: receivers deduplicate by the event's <c>id</c>.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private readonly ServiceStore _store;
    private readonly ServiceOptions _options;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);

    public WebhookDispatcher(ServiceStore store, EventHub hub, ServiceOptions options, ILogger<WebhookDispatcher> log)
    {
        _store = store;
        _options = options;
        _log = log;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
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
            IReadOnlyList<OutboxItem> due;
            try
            {
                due = _store.DueDeliveries(64);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError(e, "Reading the webhook outbox failed");
                due = [];
            }
            if (due.Count > 0)
            {
                // one head per (receiver, stream): posting them at once keeps each stream's order
                var results = await Task.WhenAll(due.Select(item => DeliverAsync(item, stop)));
                if (results.Any(ok => ok)) continue;
            }
            try
            {
                // new events wake us at once; retries that come due are found by polling
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<bool> DeliverAsync(OutboxItem item, CancellationToken stop)
    {
        string error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, item.Url)
            {
                Content = new StringContent(item.Json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.Add("X-Vigil-Event-Id", item.EventSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Vigil-Stream-Id", item.StreamId);
            if (!string.IsNullOrEmpty(item.Secret))
                request.Headers.Add("X-Vigil-Signature", "sha256=" + Convert.ToHexStringLower(
                    HMACSHA256.HashData(Encoding.UTF8.GetBytes(item.Secret), Encoding.UTF8.GetBytes(item.Json))));
            using var response = await _http.SendAsync(request, stop);
            if (response.IsSuccessStatusCode)
            {
                _store.Delivered(item.Id);
                Interlocked.Increment(ref _delivered);
                return true;
            }
            error = $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            error = e.Message;
        }
        var attempts = item.Attempts + 1;
        var delay = Math.Min(_options.WebhookMaxBackoffSeconds, _options.WebhookMinBackoffSeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        _store.DeliveryFailed(item.Id, attempts, delay, error);
        Interlocked.Increment(ref _failures);
        if (attempts == 1 || attempts % 10 == 0)
            _log.LogWarning("Webhook {WebhookId} delivery of event {EventId} failed ({Error}); attempt {Attempt}, retry in {Delay:0.0} s",
                item.WebhookId, item.EventSeq, error, attempts, delay);
        return false;
    }

    public override void Dispose()
    {
        _http.Dispose();
        _wake.Dispose();
        base.Dispose();
    }
}
