using System.Text.RegularExpressions;

namespace Vigil.Service.Api;

/// <summary>
/// Which inputs the API may add. FFmpeg opens far more than network streams (files, devices, pipes,
/// nested pseudo-protocols such as <c>concat:</c> or <c>subfile:</c>), so a URL is accepted only when its
/// scheme is on the allow-list and it names a host; anything local needs <see cref="ServiceOptions.AllowLocalInputs"/>.
/// </summary>
public sealed partial class InputPolicy(ServiceOptions options)
{
    private IReadOnlyList<string> Schemes => options.AllowedSchemes.Count > 0 ? options.AllowedSchemes : ServiceOptions.DefaultSchemes;

    /// <summary>Null when <paramref name="url"/> may be monitored, else a one-line reason for a 400.</summary>
    public string? Check(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return "url is required";
        if (url.Length > 4096) return "url is longer than 4096 characters";
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "url must not contain spaces or control characters";
        if (options.AllowLocalInputs) return null;
        var match = SchemePattern().Match(url);
        if (!match.Success)
            return $"'{url}' is a local path; only network URLs are allowed ({string.Join(", ", Schemes.Select(s => s + "://"))}) unless the service enables local inputs";
        var scheme = match.Groups[1].Value.ToLowerInvariant();
        if (!Schemes.Contains(scheme, StringComparer.OrdinalIgnoreCase))
            return scheme is "file" or "pipe" or "fd" or "concat" or "subfile" or "data" or "crypto" or "cache" or "async" or "v4l2" or "lavfi"
                || scheme.Contains('+')
                ? $"scheme '{scheme}:' reads local files or devices and is not allowed unless the service enables local inputs"
                : $"scheme '{scheme}:' is not allowed (allowed: {string.Join(", ", Schemes)})";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            return $"'{url}' is not a valid {scheme} URL with a host";
        return null;
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*):")]
    private static partial Regex SchemePattern();
}
