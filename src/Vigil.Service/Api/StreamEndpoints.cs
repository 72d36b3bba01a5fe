using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Live;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// Streams over REST: add, list, get, change, pause, resume, remove. Every change is stored before it
/// takes effect. Reads need a read key (URLs redacted) or an admin key; changes an admin key.
/// </summary>
public static partial class StreamEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var streams = app.MapGroup("/api/streams").WithTags("streams");
        streams.MapGet("/", (HttpContext http, IStreamControl manager, IServiceStore store) =>
            store.ListStreams()
                .SelectMany(c => manager.ProgramStreams(c.Id).Prepend(c)) // a multiplex stream, then each of its programme streams
                .Select(c => StreamResource.From(c, manager.Status(c.Id), !http.IsAdmin(), manager.Placement(c.Id))).ToList())
            .WithSummary("List monitored streams with their status, each programme stream after its multiplex stream (URLs redacted unless the key is an admin key)");
        streams.MapGet("/{id}", (string id, HttpContext http, IStreamControl manager, IServiceStore store) =>
            Find(store, manager, id) is { } c ? Results.Ok(StreamResource.From(c, manager.Status(id), !http.IsAdmin(), manager.Placement(id))) : NotFound(id))
            .WithSummary("One stream (or programme stream, {id}.{program}) with its status").Produces<StreamResource>().ProducesProblem(404);
        streams.MapPost("/", AddAsync).RequireAdmin()
            .WithSummary("Start monitoring a stream").Accepts<StreamRequest>("application/json")
            .Produces<StreamResource>(201).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415);
        streams.MapPatch("/{id}", ChangeAsync).RequireAdmin()
            .WithSummary("Change a stream (absent fields keep their value); its pipeline restarts").Accepts<StreamRequest>("application/json")
            .Produces<StreamResource>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(415);
        streams.MapPost("/{id}/pause", (string id, IStreamControl m, IServiceStore s) => SetPausedAsync(id, true, m, s)).RequireAdmin()
            .WithSummary("Stop analysing a stream, keeping its definition").Produces<StreamResource>().ProducesProblem(404);
        streams.MapPost("/{id}/resume", (string id, IStreamControl m, IServiceStore s) => SetPausedAsync(id, false, m, s)).RequireAdmin()
            .WithSummary("Analyse a paused stream again").Produces<StreamResource>().ProducesProblem(404);
        streams.MapDelete("/{id}", async (string id, IStreamControl manager) =>
                await manager.RemoveAsync(id) ? Results.NoContent() : NotFound(id)).RequireAdmin()
            .WithSummary("Stop monitoring a stream and forget it (its events stay)").Produces(204).ProducesProblem(404);
    }

    private static async Task<IResult> AddAsync(HttpRequest http, IStreamControl manager, IServiceStore store, InputPolicy policy)
    {
        var (request, error) = await RequestBody.ReadAsync<StreamRequest>(http);
        if (error is not null) return error;
        if (await ValidateAsync(request!, policy, http.HttpContext.RequestAborted) is { } invalid) return invalid;
        var id = request!.Id ?? NewId();
        if (!IdPattern().IsMatch(id)) return Invalid("id must be 1-64 characters of a-z, 0-9, '-' and '_'");
        if (store.GetStream(id) is not null)
            return Results.Problem(statusCode: 409, title: "Stream exists", detail: $"a stream with id '{id}' already exists");
        var now = DateTimeOffset.UtcNow;
        var config = new StreamConfig(id, request.Name ?? DefaultName(request.Url), request.Url ?? "", Normalise(request.Detectors),
            new Dictionary<string, string>(), request.Masks ?? [], request.Paused ?? false, now, now, now.ToUnixTimeMilliseconds() / 1000.0);
        if (Programmes(config, request, manager) is { } bad) return bad;
        config = WithProgrammes(config, request);
        var (valid, problem) = Validate(config, request);
        if (problem is not null) return problem;
        await manager.AddAsync(valid!);
        return Results.Created($"/api/streams/{id}", StreamResource.From(valid!, manager.Status(id), redact: false, placement: manager.Placement(id)));
    }

    private static async Task<IResult> ChangeAsync(string id, HttpRequest http, IStreamControl manager, IServiceStore store, InputPolicy policy)
    {
        var (request, error) = await RequestBody.ReadAsync<StreamRequest>(http);
        if (error is not null) return error;
        if (await ValidateAsync(request!, policy, http.HttpContext.RequestAborted) is { } invalid) return invalid;
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
        if (Programmes(config, request, manager) is { } bad) return bad;
        config = WithProgrammes(config, request);
        var (valid, problem) = Validate(config, request, current.Settings);
        if (problem is not null) return problem;
        if (!await manager.UpdateAsync(valid!)) return NotFound(id);
        return Results.Ok(StreamResource.From(valid!, manager.Status(id), redact: false, placement: manager.Placement(id)));
    }

    private static async Task<IResult> SetPausedAsync(string id, bool paused, IStreamControl manager, IServiceStore store)
    {
        if (store.GetStream(id) is not { } current) return NotFound(id);
        var config = current with { Paused = paused, UpdatedAt = DateTimeOffset.UtcNow };
        if (current.Paused != paused && !await manager.UpdateAsync(config)) return NotFound(id);
        return Results.Ok(StreamResource.From(config, manager.Status(id), redact: false, placement: manager.Placement(id)));
    }

    /// <summary>
    /// What a request may hold at most, and its URL (when it has one) checked against the input policy,
    /// host resolution included; null when it passes, else a 400.
    /// </summary>
    private static async Task<IResult?> ValidateAsync(StreamRequest request, InputPolicy policy, CancellationToken cancellation)
    {
        if (request.Detectors is { Count: > 64 }) return Invalid("at most 64 detectors");
        if (request.Thresholds is { Count: > 256 }) return Invalid("at most 256 thresholds");
        if (request.Masks is { Count: > 32 }) return Invalid("at most 32 masks");
        if (request.Url is null) return null; // a PATCH that keeps the URL; a POST fails on it in Validate
        return await policy.CheckAsync(request.Url, cancellation) is { } urlProblem ? Invalid(urlProblem, "Input not allowed") : null;
    }

    /// <summary>Checks URL, thresholds, detectors and masks the way the pipeline will use them; returns the config or a 400.</summary>
    private static (StreamConfig?, IResult?) Validate(StreamConfig config, StreamRequest request, IReadOnlyDictionary<string, string>? currentSettings = null)
    {
        if (string.IsNullOrEmpty(config.Url)) return (null, Invalid("url is required", "Input not allowed"));
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

    /// <summary>A stored stream, or a programme stream of one (<c>{id}.{program}</c>); null when there is neither.</summary>
    internal static StreamConfig? Find(IServiceStore store, IStreamControl manager, string id) =>
        store.GetStream(id) ?? (id.Contains('.') ? manager.ProgramStream(id) : null);

    /// <summary>Checks <c>program</c> and <c>programs</c> of a request: service ids, not both; null when they pass, else a 400.</summary>
    private static IResult? Programmes(StreamConfig config, StreamRequest request, IStreamControl manager)
    {
        if (request.Program is < 0 or > 65535) return Invalid("program must be a service id, 1-65535 (0: the input as one)");
        if (request.Programs is { } programs)
        {
            if (!manager.MonitorsProgramStreams) return Invalid("programs: a fleet monitors a multiplex as one stream, or one programme of it (program)");
            if (programs.ValueKind == JsonValueKind.String ? programs.GetString() != "all" : programs.ValueKind != JsonValueKind.Array)
                return Invalid("programs must be \"all\" or a list of service ids");
            if (programs.ValueKind == JsonValueKind.Array)
            {
                if (programs.GetArrayLength() > 64) return Invalid("at most 64 programs");
                var seen = new HashSet<int>();
                foreach (var p in programs.EnumerateArray())
                    if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out var n) || n is < 1 or > 65535 || !seen.Add(n))
                        return Invalid("programs must list distinct service ids, 1-65535");
            }
        }
        var (program, list) = Choice(config, request);
        return program is not null && list is not null ? Invalid("program and programs exclude each other: name one programme, or monitor several") : null;
    }

    /// <summary>The stream with the programme choice of the request applied (absent fields keep theirs).</summary>
    private static StreamConfig WithProgrammes(StreamConfig config, StreamRequest request)
    {
        var (program, programs) = Choice(config, request);
        return config with { Program = program, Programs = programs };
    }

    private static (int? Program, IReadOnlyList<int>? Programs) Choice(StreamConfig config, StreamRequest request)
    {
        var program = request.Program is { } p ? p == 0 ? null : p : config.Program;
        var programs = request.Programs is not { } given ? config.Programs
            : given.ValueKind == JsonValueKind.String ? []                                    // "all"
            : given.GetArrayLength() == 0 ? null                                              // []: the input as one
            : given.EnumerateArray().Select(e => e.GetInt32()).ToList();
        return (program, programs);
    }

    private static IReadOnlyList<string>? Normalise(List<string>? detectors) =>
        detectors is null or { Count: 0 } ? null : detectors.Select(d => d.Trim()).Where(d => d.Length > 0).ToList();

    /// <summary>host[:port]/path of the URL, from its redacted form: the name shows in metric labels and to every reader.</summary>
    private static string DefaultName(string? url) =>
        url is not null && Uri.TryCreate(UrlRedaction.Redact(url), UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host)
            ? $"{uri.Host}{(uri.IsDefaultPort ? "" : $":{uri.Port}")}{Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/')}"
            : "stream";

    private static string NewId() => "s-" + Guid.NewGuid().ToString("N")[..10];

    internal static IResult Invalid(string detail, string title = "Invalid request") =>
        Results.Problem(statusCode: 400, title: title, detail: detail);

    internal static IResult NotFound(string id) =>
        Results.Problem(statusCode: 404, title: "No such stream", detail: $"no stream with id '{id}'");

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}

/// <summary>
/// Reads a JSON request body with messages a client can act on (which field, which line). A body over
/// the limit (<see cref="ServiceOptions.MaxBodyBytes"/>, enforced by Kestrel while reading) is a 413,
/// refused from its Content-Length before it is read when it declares one.
/// </summary>
public static class RequestBody
{
    public static async Task<(T?, IResult?)> ReadAsync<T>(HttpRequest http) where T : class
    {
        if (!http.HasJsonContentType())
            return (null, Results.Problem(statusCode: 415, title: "Unsupported media type", detail: "send the body as application/json"));
        var limit = http.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (http.ContentLength is { } length && length > limit) return (null, TooLarge(limit.Value));
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Body, ApiJson.Options, http.HttpContext.RequestAborted);
            return body is null ? (null, StreamEndpoints.Invalid("the body is empty; expected a JSON object")) : (body, null);
        }
        catch (JsonException e)
        {
            return (null, StreamEndpoints.Invalid($"invalid JSON body: {e.Message}"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(limit ?? 0));
        }
    }

    private static IResult TooLarge(long limit) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large", detail: $"request bodies are limited to {limit} bytes");
}
