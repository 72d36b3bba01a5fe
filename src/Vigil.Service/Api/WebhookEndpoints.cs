using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// Webhook receivers: every matching event is POSTed (JSON, one event per request, <c>Vigil-Event-Id</c>
/// header) through the durable outbox, at least once. A receiver must be a public address unless the
/// service's <see cref="ServiceOptions.WebhookAllowedNetworks"/> lets an internal one in: checked here on
/// the URL and the addresses its host resolves to, and again at every connection.
/// </summary>
public static partial class WebhookEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/api/webhooks").WithTags("webhooks");
        hooks.MapGet("/", (HttpContext http, IServiceStore store) => store.Webhooks.Select(w => WebhookResource.From(w, !http.IsAdmin())).ToList())
            .WithSummary("List webhook receivers (their secrets never; their URLs to admin keys only)");
        hooks.MapPost("/", AddAsync).RequireAdmin().WithSummary("Add a webhook receiver; events from now on are delivered to it")
            .Accepts<WebhookRequest>("application/json").Produces<WebhookResource>(201).ProducesProblem(400).ProducesProblem(413).ProducesProblem(415);
        hooks.MapDelete("/{id}", (string id, IServiceStore store) =>
                store.DeleteWebhook(id) ? Results.NoContent() : Results.Problem(statusCode: 404, title: "No such webhook", detail: $"no webhook with id '{id}'"))
            .RequireAdmin().WithSummary("Remove a webhook receiver and its pending deliveries").Produces(204).ProducesProblem(404);
    }

    private static async Task<IResult> AddAsync(HttpRequest http, IServiceStore store, ServiceOptions options)
    {
        var (request, error) = await RequestBody.ReadAsync<WebhookRequest>(http);
        if (error is not null) return error;
        if (request!.Url is not { Length: <= 2048 } || !Uri.TryCreate(request.Url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            return StreamEndpoints.Invalid("url must be an absolute http:// or https:// URL of at most 2048 characters");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            return StreamEndpoints.Invalid("url must not carry user:password@ (use a secret: requests are signed with it)");
        if (request.Secret is { Length: > 1024 }) return StreamEndpoints.Invalid("secret must be at most 1024 characters");
        if (request.Streams is { Count: > 1000 } || request.Kinds is { Count: > 256 })
            return StreamEndpoints.Invalid("at most 1000 streams and 256 kinds");
        if (KindFilter.Problem(request.Kinds) is { } kindProblem) return StreamEndpoints.Invalid($"kinds: {kindProblem}");
        foreach (var stream in request.Streams ?? [])
            if (!StreamId().IsMatch(stream) || store.GetStream(stream) is null)
                return StreamEndpoints.Invalid($"streams: no stream with id '{(StreamId().IsMatch(stream) ? stream : "(invalid id)")}'");
        var policy = NetworkPolicy.ForWebhooks(options.WebhookAllowedNetworks);
        var addresses = await policy.ResolveAsync(uri.DnsSafeHost, http.HttpContext.RequestAborted);
        if (addresses.Length == 0) return StreamEndpoints.Invalid($"{uri.Host} does not resolve", "Webhook not allowed");
        if (policy.Refusal(uri.DnsSafeHost, addresses) is { } refused)
            return StreamEndpoints.Invalid($"webhook refused: {refused} (see WebhookAllowedNetworks)", "Webhook not allowed");
        var hook = new WebhookConfig("w-" + Guid.NewGuid().ToString("N")[..10], uri.ToString(), request.Secret,
            request.Streams is { Count: > 0 } s ? s : null, request.Kinds is { Count: > 0 } k ? k : null, DateTimeOffset.UtcNow);
        store.InsertWebhook(hook);
        return Results.Created($"/api/webhooks/{hook.Id}", WebhookResource.From(hook, redact: false));
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex StreamId();
}
