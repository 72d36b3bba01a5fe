using System.Text.RegularExpressions;

namespace Vigil.Service.Security;

/// <summary>
/// Which inputs the service may open. FFmpeg opens far more than network streams (files, devices, pipes,
/// nested pseudo-protocols such as <c>concat:</c> or <c>subfile:</c>), so a URL is accepted only when its
/// scheme is on the allow-list and it names a host; anything local needs <see cref="ServiceOptions.AllowLocalInputs"/>.
/// The host must not be, or resolve to, a link-local or cloud metadata address (<see cref="NetworkPolicy.ForInputs"/>):
/// checked when the API adds the stream and again before every connection.
/// </summary>
/// <param name="network">The address policy; default <see cref="NetworkPolicy.ForInputs"/> with the configured allow-list.</param>
public sealed partial class InputPolicy(ServiceOptions options, NetworkPolicy? network = null)
{
    private readonly NetworkPolicy _network = network ?? NetworkPolicy.ForInputs(options.InputAllowedNetworks);

    private IReadOnlyList<string> Schemes => options.AllowedSchemes.Count > 0 ? options.AllowedSchemes : ServiceOptions.DefaultSchemes;

    /// <summary>Null when <paramref name="url"/> may be monitored, else a one-line reason for a 400 (the URL itself is not repeated: it may hold a secret).</summary>
    public string? Check(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return "url is required";
        if (url.Length > 4096) return "url is longer than 4096 characters";
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "url must not contain spaces or control characters";
        var match = SchemePattern().Match(url);
        if (options.AllowLocalInputs) return null;
        if (!match.Success)
            return $"'{url}' is a local path; only network URLs are allowed ({string.Join(", ", Schemes.Select(s => s + "://"))}) unless the service enables local inputs";
        var scheme = match.Groups[1].Value.ToLowerInvariant();
        if (!Schemes.Contains(scheme, StringComparer.OrdinalIgnoreCase))
            return scheme is "file" or "pipe" or "fd" or "concat" or "subfile" or "data" or "crypto" or "cache" or "async" or "v4l2" or "lavfi"
                || scheme.Contains('+')
                ? $"scheme '{scheme}:' reads local files or devices and is not allowed unless the service enables local inputs"
                : $"scheme '{scheme}:' is not allowed (allowed: {string.Join(", ", Schemes)})";
        if (Host(url) is null)
            return $"'{UrlRedaction.Redact(url)}' is not a valid {scheme} URL with a host";
        return null;
    }

    /// <summary><see cref="Check"/>, then the network check of the host and every address it resolves to.</summary>
    public async Task<string?> CheckAsync(string? url, CancellationToken cancellation)
    {
        if (Check(url) is { } problem) return problem;
        return await CheckNetworkAsync(url!, cancellation);
    }

    /// <summary>
    /// Null when the URL's host may be connected to (or it has none: a local input), else why not. FFmpeg
    /// resolves the name again when it opens the input, so a DNS answer that changes in between (rebinding)
    /// is not caught here; see the README's security section.
    /// </summary>
    public async Task<string?> CheckNetworkAsync(string url, CancellationToken cancellation)
    {
        if (Host(url) is not { } host) return null;
        return await _network.CheckHostAsync(host, cancellation) is { } why ? $"input refused: {why}" : null;
    }

    private static string? Host(string url) =>
        SchemePattern().IsMatch(url) && Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) && !uri.IsFile
            ? uri.DnsSafeHost
            : null;

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*):")]
    private static partial Regex SchemePattern();
}
