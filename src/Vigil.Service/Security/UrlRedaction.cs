using System.Text;
using System.Text.RegularExpressions;

namespace Vigil.Service.Security;

/// <summary>
/// Takes the secrets out of stream URLs before anyone but an admin sees them (API, logs, results,
/// metric labels): the user info (<c>user:password@</c>), every query value (<c>?token=</c>, SRT's
/// <c>passphrase=</c> and <c>streamid=</c>, signed-URL signatures), the fragment, and an RTMP stream key
/// (the path after the application name). Scheme, host, port, path and query names stay, so the URL
/// still says which feed it is.
/// </summary>
public static partial class UrlRedaction
{
    public const string Mask = "***";

    /// <summary><paramref name="url"/> without its secrets; a local path (no scheme) is returned as it is.</summary>
    public static string Redact(string url)
    {
        var scheme = SchemePattern().Match(url);
        if (!scheme.Success) return url;
        var rest = url.AsSpan(scheme.Length);
        var text = new StringBuilder(url.Length).Append(url, 0, scheme.Length);

        var authorityEnd = rest.IndexOfAny('/', '?', '#');
        if (authorityEnd < 0) authorityEnd = rest.Length;
        var authority = rest[..authorityEnd];
        var at = authority.LastIndexOf('@');
        text.Append(at >= 0 ? Mask + "@" : "").Append(authority[(at + 1)..]);
        rest = rest[authorityEnd..];

        var fragmentAt = rest.IndexOf('#');
        var fragment = fragmentAt >= 0 ? rest[fragmentAt..] : [];
        if (fragmentAt >= 0) rest = rest[..fragmentAt];
        var queryAt = rest.IndexOf('?');
        var path = queryAt >= 0 ? rest[..queryAt] : rest;
        var query = queryAt >= 0 ? rest[(queryAt + 1)..] : [];

        text.Append(IsRtmp(scheme.Groups[1].Value) ? RtmpPath(path) : path);
        if (queryAt >= 0)
        {
            text.Append('?');
            var first = true;
            foreach (var range in query.Split('&'))
            {
                var pair = query[range];
                if (!first) text.Append('&');
                first = false;
                if (pair.IsEmpty) continue;
                var equals = pair.IndexOf('=');
                if (equals < 0) text.Append(Mask); // a bare token is a value too
                else text.Append(pair[..(equals + 1)]).Append(equals + 1 < pair.Length ? Mask : "");
            }
        }
        if (!fragment.IsEmpty) text.Append('#').Append(Mask);
        return text.ToString();
    }

    /// <summary>Free text (an error message, a log line) with every URL in it redacted.</summary>
    public static string Scrub(string text) =>
        text.Contains("://", StringComparison.Ordinal) ? UrlInText().Replace(text, m => Redact(m.Value)) : text;

    private static bool IsRtmp(string scheme) => scheme.StartsWith("rtmp", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>/app/streamkey</c> → <c>/app/***</c>: everything after the application is the key (or playpath).</summary>
    private static string RtmpPath(ReadOnlySpan<char> path)
    {
        var trimmed = path.TrimStart('/');
        var slash = trimmed.IndexOf('/');
        if (slash < 0 || slash == trimmed.Length - 1) return path.ToString();
        return "/" + trimmed[..(slash + 1)].ToString() + Mask;
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*)://")]
    private static partial Regex SchemePattern();

    [GeneratedRegex("""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>`]+""")]
    private static partial Regex UrlInText();
}
