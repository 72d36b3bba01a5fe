using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Service.Security;

namespace Vigil.Service.Api;

/// <summary>
/// What the caller's key may do, so a client (the dashboard) can offer only what will work: <c>admin</c>
/// (read and change), <c>read</c> (read, URLs redacted), or <c>none</c>. Needs no key itself, and
/// answers 200 either way, so asking is never an error.
/// </summary>
public static class AccessEndpoints
{
    /// <summary>The answer: the access level, whether a key was sent and refused, and whether reads need a key at all.</summary>
    public sealed record AccessResource(string Access, bool KeyRejected, bool OpenReads, string? KeyId);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/access", (HttpContext http, ServiceOptions options) =>
            {
                var presented = AccessKeys.Presented(http.Request) is not null;
                var known = http.User.IsInRole(nameof(Security.Access.Read));
                var access = http.IsAdmin() ? "admin" : known ? "read" : options.OpenReads && !presented ? "read" : "none";
                return new AccessResource(access, presented && !known, options.OpenReads, http.User.FindFirstValue(KeyAuthentication.KeyIdClaim));
            })
            .AllowAnonymous().WithTags("operations").WithSummary("What the key sent may do: admin, read or none (never 401)");
    }
}
