using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// What a stream looks and sounds like now, for the dashboard: its thumbnail (a small JPEG of the latest
/// analysis picture, encoded at most once per <see cref="ServiceOptions.ThumbnailSeconds"/>; revalidate
/// with <c>If-None-Match</c>) and the last hour of loudness per second. The current meters are in the
/// stream's status (<c>status.meters</c>). Read keys suffice.
/// </summary>
public static class LiveViewEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var streams = app.MapGroup("/api/streams").WithTags("streams");
        streams.MapGet("/{id}/thumbnail", ThumbnailAsync)
            .WithSummary("The latest picture as a small JPEG (at most 320 px wide); 204 while there is none (paused, connecting, audio only)")
            .Produces(200, contentType: "image/jpeg").Produces(204).Produces(304).ProducesProblem(404);
        streams.MapGet("/{id}/loudness", LoudnessAsync)
            .WithSummary("Short-term loudness (LUFS) and true peak (dBTP) per second over the last seconds (default and at most 3600)")
            .Produces<LoudnessHistory>().ProducesProblem(400).ProducesProblem(404);
    }

    private static async Task<IResult> ThumbnailAsync(string id, HttpContext http, IStreamControl streams, IServiceStore store)
    {
        if (StreamEndpoints.Find(store, streams, id) is null) return StreamEndpoints.NotFound(id);
        if (await streams.ThumbnailAsync(id, http.RequestAborted) is not { } thumbnail) return Results.NoContent();
        var headers = http.Response.Headers;
        headers.ETag = thumbnail.ETag;
        headers.CacheControl = "private, no-cache";
        if (http.Request.Headers.IfNoneMatch.Contains(thumbnail.ETag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(thumbnail.Jpeg, "image/jpeg");
    }

    private static async Task<IResult> LoudnessAsync(string id, int? seconds, HttpContext http, IStreamControl streams, IServiceStore store)
    {
        if (seconds is < 1 or > LiveMeters.HistorySeconds) return StreamEndpoints.Invalid($"seconds must be between 1 and {LiveMeters.HistorySeconds}");
        if (StreamEndpoints.Find(store, streams, id) is not { } config) return StreamEndpoints.NotFound(id);
        var count = seconds ?? LiveMeters.HistorySeconds;
        return Results.Ok(await streams.LoudnessAsync(config, count, http.RequestAborted)
                          ?? new LoudnessHistory(DateTimeOffset.UtcNow.AddSeconds(-count), 1, new double?[count], new double?[count])); // nothing measured
    }
}
