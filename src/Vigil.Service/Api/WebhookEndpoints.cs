using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>Webhook receivers: every matching event is POSTed (JSON, one event per request) through the durable outbox.</summary>
public static class WebhookEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/api/webhooks").WithTags("webhooks").RequireApiKey();
        hooks.MapGet("/", (ServiceStore store) => store.Webhooks.Select(WebhookResource.From).ToList())
            .WithSummary("List webhook receivers");
        hooks.MapPost("/", AddAsync).WithSummary("Add a webhook receiver; events from now on are delivered to it")
            .Accepts<WebhookRequest>("application/json").Produces<WebhookResource>(201).ProducesProblem(400);
        hooks.MapDelete("/{id}", (string id, ServiceStore store) =>
                store.DeleteWebhook(id) ? Results.NoContent() : Results.Problem(statusCode: 404, title: "No such webhook", detail: $"no webhook with id '{id}'"))
            .WithSummary("Remove a webhook receiver and its pending deliveries").Produces(204).ProducesProblem(404);
    }

    private static async Task<IResult> AddAsync(HttpRequest http, ServiceStore store)
    {
        var (request, error) = await RequestBody.ReadAsync<WebhookRequest>(http);
        if (error is not null) return error;
        if (!Uri.TryCreate(request!.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            return StreamEndpoints.Invalid("url must be an absolute http:// or https:// URL");
        var hook = new WebhookConfig("w-" + Guid.NewGuid().ToString("N")[..10], uri.ToString(), request.Secret,
            request.Streams is { Count: > 0 } s ? s : null, request.Kinds is { Count: > 0 } k ? k : null, DateTimeOffset.UtcNow);
        store.InsertWebhook(hook);
        return Results.Created($"/api/webhooks/{hook.Id}", WebhookResource.From(hook));
    }
}
