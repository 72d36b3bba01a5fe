using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Vigil.Service.Api;

/// <summary>API keys for every state-changing call: <c>X-Api-Key: KEY</c> (or <c>Authorization: Bearer KEY</c>).</summary>
public sealed class ApiKeys(IReadOnlyList<string> keys)
{
    public const string Header = "X-Api-Key";

    private readonly byte[][] _keys = keys.Where(k => !string.IsNullOrEmpty(k)).Select(Encoding.UTF8.GetBytes).ToArray();

    public bool Accepts(HttpRequest request)
    {
        string? given = request.Headers[Header];
        if (string.IsNullOrEmpty(given) && request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal))
            given = auth["Bearer ".Length..].Trim();
        if (string.IsNullOrEmpty(given)) return false;
        var bytes = Encoding.UTF8.GetBytes(given);
        var ok = false;
        foreach (var key in _keys) ok |= CryptographicOperations.FixedTimeEquals(key, bytes);
        return ok;
    }

    /// <summary>The key in DataDir/api-key, created (random, owner-only) on first use when none is configured.</summary>
    public static string LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, "api-key");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.WriteAllText(path, key + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }
}

public static class ApiKeyEndpointExtensions
{
    /// <summary>Answers 401 unless the request carries one of the service's API keys.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var keys = context.HttpContext.RequestServices.GetService(typeof(ApiKeys)) as ApiKeys;
            if (keys is null || !keys.Accepts(context.HttpContext.Request))
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
                    detail: $"state-changing calls need a valid '{ApiKeys.Header}' header");
            return await next(context);
        });
}
