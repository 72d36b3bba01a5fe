using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>Streams over REST: add, list, get, change, pause, resume, remove. Every change is stored before it takes effect.</summary>
public static partial class StreamEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var streams = app.MapGroup("/api/streams").WithTags("streams");
        streams.MapGet("/", (StreamManager manager, ServiceStore store) =>
            store.ListStreams().Select(c => StreamResource.From(c, manager.Supervisor(c.Id)?.Status)).ToList())
            .WithSummary("List monitored streams with their status");
        streams.MapGet("/{id}", (string id, StreamManager manager, ServiceStore store) =>
            store.GetStream(id) is { } c ? Results.Ok(StreamResource.From(c, manager.Supervisor(id)?.Status)) : NotFound(id))
            .WithSummary("One stream with its status").Produces<StreamResource>().ProducesProblem(404);
        streams.MapPost("/", AddAsync).RequireApiKey()
            .WithSummary("Start monitoring a stream").Accepts<StreamRequest>("application/json")
            .Produces<StreamResource>(201).ProducesProblem(400).ProducesProblem(401).ProducesProblem(409);
        streams.MapPatch("/{id}", ChangeAsync).RequireApiKey()
            .WithSummary("Change a stream (absent fields keep their value); its pipeline restarts").Accepts<StreamRequest>("application/json")
            .Produces<StreamResource>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(404);
        streams.MapPost("/{id}/pause", (string id, StreamManager m, ServiceStore s) => SetPausedAsync(id, true, m, s)).RequireApiKey()
            .WithSummary("Stop analysing a stream, keeping its definition").Produces<StreamResource>().ProducesProblem(404);
        streams.MapPost("/{id}/resume", (string id, StreamManager m, ServiceStore s) => SetPausedAsync(id, false, m, s)).RequireApiKey()
            .WithSummary("Analyse a paused stream again").Produces<StreamResource>().ProducesProblem(404);
        streams.MapDelete("/{id}", async (string id, StreamManager manager) =>
                await manager.RemoveAsync(id) ? Results.NoContent() : NotFound(id)).RequireApiKey()
            .WithSummary("Stop monitoring a stream and forget it (its events stay)").Produces(204).ProducesProblem(404);
    }

    private static async Task<IResult> AddAsync(HttpRequest http, StreamManager manager, ServiceStore store, InputPolicy policy)
    {
        var (request, error) = await RequestBody.ReadAsync<StreamRequest>(http);
        if (error is not null) return error;
        var id = request!.Id ?? NewId();
        if (!IdPattern().IsMatch(id)) return Invalid("id must be 1-64 characters of a-z, 0-9, '-' and '_'");
        if (store.GetStream(id) is not null)
            return Results.Problem(statusCode: 409, title: "Stream exists", detail: $"a stream with id '{id}' already exists");
        var now = DateTimeOffset.UtcNow;
        var config = new StreamConfig(id, request.Name ?? DefaultName(request.Url), request.Url ?? "", Normalise(request.Detectors),
            new Dictionary<string, string>(), request.Masks ?? [], request.Paused ?? false, now, now, now.ToUnixTimeMilliseconds() / 1000.0);
        var (valid, problem) = Validate(config, request, policy);
        if (problem is not null) return problem;
        await manager.AddAsync(valid!);
        return Results.Created($"/api/streams/{id}", StreamResource.From(valid!, manager.Supervisor(id)?.Status));
    }

    private static async Task<IResult> ChangeAsync(string id, HttpRequest http, StreamManager manager, ServiceStore store, InputPolicy policy)
    {
        var (request, error) = await RequestBody.ReadAsync<StreamRequest>(http);
        if (error is not null) return error;
        if (store.GetStream(id) is not { } current) return NotFound(id);
        if (request!.Id is not null && request.Id != id) return Invalid("id cannot be changed");
        var config = current with
        {
            Name = request.Name ?? current.Name,
            Url = request.Url ?? current.Url,
            Detectors = request.Detectors is null ? current.Detectors : Normalise(request.Detectors),
            Masks = request.Masks ?? current.Masks,
            Paused = request.Paused ?? current.Paused,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        var (valid, problem) = Validate(config, request, policy, current.Settings);
        if (problem is not null) return problem;
        if (!await manager.UpdateAsync(valid!)) return NotFound(id);
        return Results.Ok(StreamResource.From(valid!, manager.Supervisor(id)?.Status));
    }

    private static async Task<IResult> SetPausedAsync(string id, bool paused, StreamManager manager, ServiceStore store)
    {
        if (store.GetStream(id) is not { } current) return NotFound(id);
        var config = current with { Paused = paused, UpdatedAt = DateTimeOffset.UtcNow };
        if (current.Paused != paused && !await manager.UpdateAsync(config)) return NotFound(id);
        return Results.Ok(StreamResource.From(config, manager.Supervisor(id)?.Status));
    }

    /// <summary>Checks URL, thresholds, detectors and masks the way the pipeline will use them; returns the config or a 400.</summary>
    private static (StreamConfig?, IResult?) Validate(StreamConfig config, StreamRequest request, InputPolicy policy,
        IReadOnlyDictionary<string, string>? currentSettings = null)
    {
        if (policy.Check(config.Url) is { } urlProblem) return (null, Invalid(urlProblem, "Input not allowed"));
        if (config.Name.Length is 0 or > 200) return (null, Invalid("name must be 1-200 characters"));
        var settings = new Dictionary<string, string>(currentSettings ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        if (request.Thresholds is not null)
        {
            settings.Clear(); // a PATCH with thresholds replaces them all
            foreach (var (key, value) in request.Thresholds)
            {
                if (ApiJson.ThresholdText(value) is not { } text)
                    return (null, Invalid($"thresholds.{key}: expected a number, string or boolean"));
                settings[key] = text;
            }
        }
        config = config with { Settings = settings };
        try
        {
            DetectorSetup.Build(config);
        }
        catch (ArgumentException e)
        {
            return (null, Invalid(e.Message, "Invalid detector configuration"));
        }
        return (config, null);
    }

    private static IReadOnlyList<string>? Normalise(List<string>? detectors) =>
        detectors is null or { Count: 0 } ? null : detectors.Select(d => d.Trim()).Where(d => d.Length > 0).ToList();

    private static string DefaultName(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? $"{uri.Host}{(uri.IsDefaultPort ? "" : $":{uri.Port}")}{uri.AbsolutePath.TrimEnd('/')}" : "stream";

    private static string NewId() => "s-" + Guid.NewGuid().ToString("N")[..10];

    internal static IResult Invalid(string detail, string title = "Invalid request") =>
        Results.Problem(statusCode: 400, title: title, detail: detail);

    internal static IResult NotFound(string id) =>
        Results.Problem(statusCode: 404, title: "No such stream", detail: $"no stream with id '{id}'");

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}

/// <summary>Reads a JSON request body with messages a client can act on (which field, which line).</summary>
public static class RequestBody
{
    public static async Task<(T?, IResult?)> ReadAsync<T>(HttpRequest http) where T : class
    {
        if (!http.HasJsonContentType())
            return (null, Results.Problem(statusCode: 415, title: "Unsupported media type", detail: "send the body as application/json"));
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Body, ApiJson.Options, http.HttpContext.RequestAborted);
            return body is null ? (null, StreamEndpoints.Invalid("the body is empty; expected a JSON object")) : (body, null);
        }
        catch (JsonException e)
        {
            return (null, StreamEndpoints.Invalid($"invalid JSON body: {e.Message}"));
        }
    }
}
