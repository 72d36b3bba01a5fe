using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Vigil.Service.Notify;
using Vigil.Service.Security;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// Events: the stored history (JSON Lines, filterable), the live feed over Server-Sent Events
/// (<c>id:</c> is the event id, so a client that reconnects with <c>Last-Event-ID</c> misses nothing),
/// and defect snapshots. All need a read key. Live connections are capped per key and in total
/// (<see cref="LiveConnectionLimits"/>); a kind filter that names no known kind or family is a 400.
/// </summary>
public static class EventEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/api").WithTags("events");
        events.MapGet("/events", (string? stream, string? kind, long? after, int? limit, IServiceStore store) =>
                History(store, stream, kind, after, limit))
            .WithSummary("Stored events (JSON Lines, EVENTS.md shape plus id, stream_id, time, snapshot), oldest first")
            .Produces<string>(200, "application/x-ndjson");
        events.MapGet("/streams/{id}/events", (string id, string? kind, long? after, int? limit, IServiceStore store, IStreamControl streams) =>
                StreamEndpoints.Find(store, streams, id) is null ? StreamEndpoints.NotFound(id) : History(store, id, kind, after, limit))
            .WithSummary("Stored events of one stream (JSON Lines)").Produces<string>(200, "application/x-ndjson").ProducesProblem(404);
        events.MapGet("/events/live", LiveAsync)
            .WithSummary("Live defect_start and defect events as Server-Sent Events; filter with stream= and kind= (kinds or families, comma-separated); resume with Last-Event-ID or after=")
            .Produces<string>(200, "text/event-stream").ProducesProblem(400).ProducesProblem(429).ProducesProblem(503);
        events.MapGet("/snapshots/{id}", (string id, IServiceStore store) =>
                store.GetSnapshot(id) is { } jpeg
                    ? Results.File(jpeg, "image/jpeg")
                    : Results.Problem(statusCode: 404, title: "No such snapshot", detail: $"no snapshot with id '{id}'"))
            .WithSummary("The JPEG taken when a defect started").Produces(200, contentType: "image/jpeg").ProducesProblem(404);
    }

    private static IResult History(IServiceStore store, string? stream, string? kind, long? after, int? limit)
    {
        if (limit is < 1 or > 10_000) return StreamEndpoints.Invalid("limit must be between 1 and 10000");
        if (after is < 0) return StreamEndpoints.Invalid("after must be an event id (0 or more)");
        var kinds = KindFilter.Parse(kind);
        if (kinds is { Count: > 64 }) return StreamEndpoints.Invalid("at most 64 kinds");
        if (KindFilter.Problem(kinds) is { } problem) return StreamEndpoints.Invalid(problem);
        var list = store.QueryEvents(stream, kinds, after ?? 0, limit ?? 1000);
        var text = new StringBuilder();
        foreach (var e in list) text.Append(e.Json).Append('\n');
        return Results.Text(text.ToString(), "application/x-ndjson", Encoding.UTF8);
    }

    private static async Task LiveAsync(HttpContext http, string? stream, string? kind, long? after, EventHub hub, IServiceStore store,
        IHostApplicationLifetime lifetime, LiveConnectionLimits limits)
    {
        var kinds = KindFilter.Parse(kind);
        if (kinds is { Count: > 64 } || KindFilter.Problem(kinds) is not null || after is < 0)
        {
            await StreamEndpoints.Invalid(KindFilter.Problem(kinds) ?? (after is < 0 ? "after must be an event id (0 or more)" : "at most 64 kinds"))
                .ExecuteAsync(http);
            return;
        }
        var (lease, status, reason) = limits.TryOpen(http.Principal());
        if (lease is null)
        {
            http.Response.Headers.RetryAfter = "5";
            await Results.Problem(statusCode: status, title: status == 429 ? "Too many live connections for this key" : "Too many live connections",
                detail: reason).ExecuteAsync(http);
            return;
        }
        using var _ = lease;
        if (after is null && long.TryParse(http.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var lastId))
            after = lastId;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        // subscribe before reading the history, then skip what the history already sent: no gap, no duplicate
        using var subscription = hub.Subscribe(stream, kinds);
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync(": vigil events\nretry: 1000\n\n", stop.Token);
        await response.Body.FlushAsync(stop.Token);
        var sent = after ?? 0;
        try
        {
            if (after is not null)
            {
                while (true)
                {
                    var backlog = store.QueryEvents(stream, kinds, sent, 1000);
                    foreach (var e in backlog)
                    {
                        await WriteAsync(response, e, stop.Token);
                        sent = e.Seq;
                    }
                    if (backlog.Count < 1000) break;
                }
                await response.Body.FlushAsync(stop.Token);
            }
            var reader = subscription.Reader;
            while (!stop.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                idle.CancelAfter(TimeSpan.FromSeconds(15));
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", stop.Token); // proxies close silent connections
                    await response.Body.FlushAsync(stop.Token);
                    continue;
                }
                if (!more) break; // cut off for falling behind: the client resumes from its last id
                while (reader.TryRead(out var e))
                {
                    if (e.Seq <= sent) continue;
                    await WriteAsync(response, e, stop.Token);
                    sent = e.Seq;
                }
                await response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static Task WriteAsync(HttpResponse response, StoredEvent e, CancellationToken cancellation) =>
        response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Seq}\nevent: {e.Type}\ndata: {e.Json}\n\n"), cancellation);
}
