using System.Security.Cryptography;
using System.Text;

namespace Vigil.Service.Security;

/// <summary>
/// Seals secrets the service must be able to use again (webhook signing keys: an HMAC needs the secret
/// itself, so a hash will not do) with AES-256-GCM under a key kept in its own owner-only file beside the
/// database. A copy of the database (a backup, a support bundle) then holds no usable secret; the key file
/// must be taken too. Each sealed value is bound to what it belongs to (the webhook's id), so values cannot
/// be swapped between rows. Format: <c>v1:</c> base64(nonce ‖ tag ‖ ciphertext).
/// </summary>
public sealed class SecretBox
{
    private const string Prefix = "v1:";
    private const int NonceSize = 12, TagSize = 16, KeySize = 32;

    private readonly byte[] _key;

    public SecretBox(byte[] key)
    {
        if (key.Length != KeySize) throw new ArgumentException($"the secret key must be {KeySize} bytes");
        _key = key;
    }

    /// <summary>The key in <paramref name="path"/>, created (random, mode 0600) when missing.</summary>
    public static SecretBox FromKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(KeySize);
            OwnerOnly.WriteNewFile(path, Encoding.ASCII.GetBytes(Convert.ToBase64String(fresh) + "\n"));
        }
        OwnerOnly.Restrict(path);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{path} does not hold a base64 secret key");
        }
        if (key.Length != KeySize) throw new InvalidOperationException($"{path} must hold {KeySize} bytes (base64), not {key.Length}");
        return new SecretBox(key);
    }

    /// <summary>True for a value <see cref="Seal"/> produced (anything else is a secret stored in clear by an older version).</summary>
    public static bool IsSealed(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Seal(string secret, string boundTo)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(boundTo));
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The secret; throws <see cref="CryptographicException"/> when the key is not the one that sealed it.</summary>
    public string Open(string sealedValue, string boundTo)
    {
        if (!IsSealed(sealedValue)) throw new CryptographicException("not a sealed value");
        var bytes = Convert.FromBase64String(sealedValue[Prefix.Length..]);
        if (bytes.Length < NonceSize + TagSize) throw new CryptographicException("sealed value too short");
        var plain = new byte[bytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize + TagSize), bytes.AsSpan(NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(boundTo));
        return Encoding.UTF8.GetString(plain);
    }
}
