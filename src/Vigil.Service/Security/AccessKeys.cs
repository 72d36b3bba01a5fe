using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Vigil.Service.Security;

/// <summary>What a key may do: read everything (URLs redacted), or read and change everything.</summary>
public enum Access
{
    Read,
    Admin,
}

/// <summary>
/// The service's keys: admin keys (<see cref="ServiceOptions.ApiKeys"/>) and read-only keys
/// (<see cref="ServiceOptions.ReadKeys"/>). A key is looked up by its SHA-256 digest, compared in constant
/// time against every known digest, so neither its content nor its length leaks through timing. Each
/// key has a stable, non-secret id (<c>admin-0</c>, <c>read-2</c>) that limits are counted by.
/// </summary>
public sealed class AccessKeys
{
    public const string Header = "X-Api-Key";

    private readonly (byte[] Digest, Access Access, string Id)[] _keys;

    public AccessKeys(IEnumerable<string> adminKeys, IEnumerable<string> readKeys)
    {
        _keys =
        [
            .. adminKeys.Where(k => !string.IsNullOrEmpty(k)).Select((k, i) => (Digest(k), Access.Admin, $"admin-{i}")),
            .. readKeys.Where(k => !string.IsNullOrEmpty(k)).Select((k, i) => (Digest(k), Access.Read, $"read-{i}")),
        ];
    }

    /// <summary>The key a request presents (<c>X-Api-Key</c>, else <c>Authorization: Bearer</c>); null when none.</summary>
    public static string? Presented(HttpRequest request)
    {
        string? given = request.Headers[Header];
        if (string.IsNullOrEmpty(given) && request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = auth["Bearer ".Length..].Trim();
        return string.IsNullOrEmpty(given) ? null : given;
    }

    /// <summary>What <paramref name="key"/> may do and its id; null for an unknown key.</summary>
    public (Access Access, string Id)? Identify(string key)
    {
        var digest = Digest(key);
        (Access, string)? found = null;
        foreach (var k in _keys) // no early exit: every lookup costs the same
            if (CryptographicOperations.FixedTimeEquals(k.Digest, digest))
                found = (k.Access, k.Id);
        return found;
    }

    /// <summary>
    /// The key in <paramref name="path"/>, created (random, 192 bits, hex) when missing. The file is created
    /// owner-only (0600) before the key is written, so it is never readable by others, not even briefly.
    /// </summary>
    public static string LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            OwnerOnly.Restrict(path);
            return File.ReadAllText(path).Trim();
        }
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        OwnerOnly.WriteNewFile(path, Encoding.ASCII.GetBytes(key + "\n"));
        return key;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
