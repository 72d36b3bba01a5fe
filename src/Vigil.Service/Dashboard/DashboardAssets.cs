using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Vigil.Service.Dashboard;

/// <summary>
/// The web dashboard (web/, built by npm and embedded in this assembly by the build): <c>/</c> is the
/// page, <c>/dashboard/…</c> its scripts, styles and the npm packages it uses. The files hold no data
/// (the page asks for a key and reads everything through the API), so they need no key; they are
/// served from memory with an ETag and revalidated on every load, so an upgraded service is never
/// shown with yesterday's scripts.
/// </summary>
public static class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    private static readonly Lazy<FrozenDictionary<string, Asset>> Files = new(Load);

    /// <summary>Paths of the embedded files (relative to <c>/dashboard/</c>); empty when the build embedded none.</summary>
    public static IReadOnlyCollection<string> Paths => Files.Value.Keys;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Serve(http, "index.html"))
            .ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/dashboard/{**path}", (HttpContext http, string path) => Serve(http, path))
            .ExcludeFromDescription().AllowAnonymous();
    }

    private static IResult Serve(HttpContext http, string path)
    {
        if (!Files.Value.TryGetValue(path, out var asset))
            return Results.Problem(statusCode: 404, title: "Not found", detail: $"the dashboard has no file '{path}'");
        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        if (path == "index.html")
        {
            // the page loads only its own files; images are blobs the scripts fetched with the key
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
            headers["Referrer-Policy"] = "no-referrer";
        }
        if (http.Request.Headers.IfNoneMatch.Contains(asset.ETag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var content = memory.ToArray();
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"";
            files[name[Prefix.Length..]] = new Asset(content, ContentType(name), etag);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "text/plain; charset=utf-8",
    };
}
