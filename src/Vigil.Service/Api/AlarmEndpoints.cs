using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Security;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// Alarms, as an operator works them: the defects open now on every stream, acknowledging one (who and
/// when, stored; admin keys only), and the history of ended defects filtered by stream, kind and time.
/// Each alarm is the stored event itself (EVENTS.md shape) with its acknowledgement beside it.
/// </summary>
public static class AlarmEndpoints
{
    /// <summary>A defect (its <c>defect_start</c> while open, its <c>defect</c> once ended) and who acknowledged it.</summary>
    public sealed record AlarmResource(JsonElement Event, Acknowledgement? Ack);

    /// <summary>The open defects, and the last event id they include: a live feed resumed after it misses nothing.</summary>
    public sealed record ActiveAlarms(long LastEventId, IReadOnlyList<AlarmResource> Alarms);

    /// <summary>A page of ended defects, newest first; <c>next_before</c> asks for the next (older) page.</summary>
    public sealed record AlarmHistory(IReadOnlyList<AlarmResource> Alarms, long? NextBefore);

    /// <summary>An acknowledgement: the operator's name.</summary>
    public sealed record AckRequest(string? By = null);

    public static void Map(IEndpointRouteBuilder app)
    {
        var alarms = app.MapGroup("/api/alarms").WithTags("alarms");
        alarms.MapGet("/", Active)
            .WithSummary("Defects open now on every stream (optionally one), oldest first, with their acknowledgements");
        alarms.MapGet("/history", History)
            .WithSummary("Ended defects, newest first: filter by stream, kind (kinds or families), from/to (RFC 3339, overlapping); page with before=")
            .ProducesProblem(400);
        alarms.MapPost("/{id:long}/ack", AcknowledgeAsync).RequireAdmin()
            .WithSummary("Acknowledge the defect of event id (its defect_start or defect): stores who and when; the first acknowledgement stands")
            .Accepts<AckRequest>("application/json").Produces<AlarmResource>().ProducesProblem(400).ProducesProblem(404);
    }

    private static ActiveAlarms Active(string? stream, IServiceStore store, IStreamControl streams)
    {
        // the id first: an event stored while the open defects are read is then sent again, never missed
        var last = store.LastSeq;
        var open = store.ListStreams().SelectMany(s => streams.ProgramStreams(s.Id).Prepend(s)) // programme streams have their own
            .Where(s => stream is null || s.Id == stream).SelectMany(s => store.OpenDefects(s.Id))
            .OrderBy(e => e.Seq).ToList();
        return new ActiveAlarms(last, WithAcks(store, open));
    }

    private static IResult History(string? stream, string? kind, DateTimeOffset? from, DateTimeOffset? to, long? before, int? limit, IServiceStore store)
    {
        if (limit is < 1 or > 1000) return StreamEndpoints.Invalid("limit must be between 1 and 1000");
        if (from > to) return StreamEndpoints.Invalid("from must not be after to");
        var kinds = KindFilter.Parse(kind);
        if (kinds is { Count: > 64 }) return StreamEndpoints.Invalid("at most 64 kinds");
        if (KindFilter.Problem(kinds) is { } problem) return StreamEndpoints.Invalid(problem);
        var take = limit ?? 100;
        var page = store.QueryDefects(stream, kinds, from, to, before, take + 1);
        var shown = page.Take(take).ToList();
        return Results.Ok(new AlarmHistory(WithAcks(store, shown), page.Count > take ? shown[^1].Seq : null));
    }

    private static async Task<IResult> AcknowledgeAsync(long id, HttpRequest http, IServiceStore store)
    {
        var (request, error) = await RequestBody.ReadAsync<AckRequest>(http);
        if (error is not null) return error;
        var by = request!.By?.Trim();
        if (string.IsNullOrEmpty(by) || by.Length > 100 || by.Any(char.IsControl))
            return StreamEndpoints.Invalid("by (who acknowledges) must be 1-100 characters");
        if (store.GetEvent(id) is not { } e)
            return Results.Problem(statusCode: 404, title: "No such event", detail: $"no event with id {id}");
        var ack = store.Acknowledge(e, by, http.HttpContext.User.FindFirstValue(KeyAuthentication.KeyIdClaim));
        return Results.Ok(new AlarmResource(Parse(e), ack));
    }

    private static List<AlarmResource> WithAcks(IServiceStore store, IReadOnlyCollection<StoredEvent> events)
    {
        var acks = store.Acknowledgements(events);
        return events.Select(e => new AlarmResource(Parse(e), acks.GetValueOrDefault(e.Seq))).ToList();
    }

    private static JsonElement Parse(StoredEvent e)
    {
        using var doc = JsonDocument.Parse(e.Json);
        return doc.RootElement.Clone();
    }
}
