using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Detectors;
using Vigil.Service.Live;
using Vigil.Service.Ops;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service.Api;

/// <summary>
/// Operations: health, Prometheus metrics, and the detector catalog (what <c>detectors</c> and
/// <c>thresholds</c> accept). <c>/healthz</c> answers liveness probes without a key, with counts only to
/// callers that may read; <c>/metrics</c> needs a read key (Prometheus: <c>authorization: credentials</c>).
/// </summary>
public static class OpsEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", async (HttpContext http, ServiceStore store, StreamManager streams, Microsoft.AspNetCore.Authorization.IAuthorizationService auth) =>
        {
            try
            {
                var pending = store.PendingDeliveries(); // the store answers
                if (!(await auth.AuthorizeAsync(http.User, http, KeyAuthentication.ReadPolicy)).Succeeded) return Results.Ok(new { status = "ok" });
                var running = streams.Supervisors.Count(s => s.Status.State == StreamState.Running);
                return Results.Ok(new { status = "ok", streams = streams.Supervisors.Count, running, events = store.LastSeq, pending_webhooks = pending });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Results.Problem(statusCode: 503, title: "Unhealthy", detail: "the store does not answer");
            }
        }).AllowAnonymous().WithTags("operations").WithSummary("Liveness: the store answers (counts for callers with a read key)");
        app.MapGet("/metrics", (PrometheusMetrics metrics) => Results.Text(metrics.Render(), PrometheusMetrics.ContentType))
            .WithTags("operations").WithSummary("Prometheus text metrics").Produces<string>(200, "text/plain");
        app.MapGet("/api/detectors", () => DetectorCatalog.All.Select(d => new
            {
                kind = d.Kind,
                description = d.Description,
                options = d.Options.ToDictionary(o => o.Name, o => o.Default),
            }).ToList())
            .WithTags("operations").WithSummary("Detector kinds and their options with defaults");
    }
}
