using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Vigil.Service.Security;

/// <summary>
/// Who may call what. Every endpoint needs at least <see cref="ReadPolicy"/> (the fallback policy: an
/// endpoint someone adds later is closed until it says otherwise); endpoints that change state need
/// <see cref="AdminPolicy"/>; the few public ones (<c>/healthz</c>, the OpenAPI document) say
/// <c>AllowAnonymous</c>. A missing or unknown key gets 401, a read key on an admin call 403.
/// </summary>
public static class KeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string ReadPolicy = "read";
    public const string AdminPolicy = "admin";

    /// <summary>Claim naming the key's id (<c>admin-0</c>, <c>read-1</c>): never the key itself.</summary>
    public const string KeyIdClaim = "vigil:key";

    private const string UnknownKeyItem = "vigil:unknown-key";

    public static IServiceCollection AddKeyAuthentication(this IServiceCollection services, ServiceOptions options)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, _ => { });
        services.AddAuthorizationBuilder()
            .AddPolicy(ReadPolicy, p => p.RequireAssertion(c => CanRead(c, options.OpenReads)))
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(nameof(Access.Admin)))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAssertion(c => CanRead(c, options.OpenReads)).Build());
        return services;
    }

    /// <summary>Marks an endpoint (or group) as one that changes state: admin keys only.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(AdminPolicy);

    /// <summary>Whether the caller holds an admin key: only admins see stream URLs unredacted.</summary>
    public static bool IsAdmin(this HttpContext http) => http.User.IsInRole(nameof(Access.Admin));

    /// <summary>What limits count the caller by: its key's id, or its address when reads are open and it sent none.</summary>
    public static string Principal(this HttpContext http) =>
        http.User.FindFirstValue(KeyIdClaim) ?? $"address-{http.Connection.RemoteIpAddress}";

    // open reads let anonymous callers in, but a key that is wrong is still refused: a misconfigured
    // dashboard should hear about it rather than work by accident
    private static bool CanRead(AuthorizationHandlerContext c, bool openReads) =>
        c.User.IsInRole(nameof(Access.Read)) ||
        (openReads && !(c.Resource is HttpContext http && http.Items.ContainsKey(UnknownKeyItem)));

    private sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logs, UrlEncoder encoder, AccessKeys keys)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logs, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (AccessKeys.Presented(Request) is not { } given) return Task.FromResult(AuthenticateResult.NoResult());
            if (keys.Identify(given) is not var (access, id))
            {
                Context.Items[UnknownKeyItem] = true;
                return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
            }
            var claims = new List<Claim> { new(KeyIdClaim, id), new(ClaimTypes.Role, nameof(Access.Read)) };
            if (access == Access.Admin) claims.Add(new Claim(ClaimTypes.Role, nameof(Access.Admin)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, KeyAuthentication.Scheme));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, KeyAuthentication.Scheme)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.Headers.WWWAuthenticate = "Bearer realm=\"vigil\"";
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
                detail: Context.Items.ContainsKey(UnknownKeyItem)
                    ? $"the key sent ('{AccessKeys.Header}' or 'Authorization: Bearer') is not one of this service's keys"
                    : $"send a key in the '{AccessKeys.Header}' header (or 'Authorization: Bearer KEY'): a read key for reads, an admin key for changes")
                .ExecuteAsync(Context);
        }

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
            Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Admin key required",
                detail: "this key may only read; changes need an admin key").ExecuteAsync(Context);
    }
}
