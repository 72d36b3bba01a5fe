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
        app.MapGet("/healthz", async (HttpContext http, IServiceStore store, IStreamControl streams, IEnumerable<IOpsContributor> extras,
            Microsoft.AspNetCore.Authorization.IAuthorizationService auth) =>
        {
            try
            {
                var pending = store.PendingDeliveries(); // the store answers
                // a fleet node is healthy (ready) only as an Up member; membership details need a read key like the counts
                var healthy = true;
                var details = new Dictionary<string, object?>();
                foreach (var extra in extras)
                {
                    healthy &= extra.Check(out var detail);
                    details[extra.Name] = detail;
                }
                var status = healthy ? "ok" : "unavailable";
                if (!(await auth.AuthorizeAsync(http.User, http, KeyAuthentication.ReadPolicy)).Succeeded)
                    return healthy ? Results.Ok(new { status }) : Results.Json(new { status }, statusCode: 503);
                var local = streams.Local;
                var answer = new Dictionary<string, object?>
                {
                    ["status"] = status, ["streams"] = local.Count, ["running"] = local.Count(p => p.Status.State == StreamState.Running),
                    ["events"] = store.LastSeq, ["pending_webhooks"] = pending,
                };
                foreach (var (name, detail) in details) answer[name] = detail;
                return healthy ? Results.Ok(answer) : Results.Json(answer, statusCode: 503);
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
