using System.Security.Cryptography;
using NaCl;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>XSalsa20-Poly1305 (NaCl secretbox): a random 24-byte nonce, the 16-byte tag, then the ciphertext.</summary>
internal sealed class SecretboxProvider : EncryptionProvider, IDisposable
{
    private readonly XSalsa20Poly1305 _box;
    private readonly Lock _lock = new();

    public SecretboxProvider(string keyName, byte[] key)
        : base("secretbox", keyName)
    {
        _box = new XSalsa20Poly1305(key);
    }

    public override byte[] Encrypt(ReadOnlySpan<byte> plain, string storageKey)
    {
        var result = WithPrefix(XSalsa20Poly1305.NonceLength + XSalsa20Poly1305.TagLength + plain.Length, out var body);
        var nonce = body[..XSalsa20Poly1305.NonceLength];
        RandomNumberGenerator.Fill(nonce);
        // The library keeps per-call state in the instance.
        lock (_lock)
        {
            _box.Encrypt(body[XSalsa20Poly1305.NonceLength..], plain, nonce);
        }

        return result;
    }

    public override byte[] Decrypt(ReadOnlySpan<byte> stored, string storageKey)
    {
        var body = stored[Prefix.Length..];
        if (body.Length < XSalsa20Poly1305.NonceLength + XSalsa20Poly1305.TagLength)
        {
            throw new EncryptionException(storageKey, "the stored data is shorter than a secretbox nonce and tag");
        }

        var plain = new byte[body.Length - XSalsa20Poly1305.NonceLength - XSalsa20Poly1305.TagLength];
        bool opened;
        lock (_lock)
        {
            opened = _box.TryDecrypt(plain, body[XSalsa20Poly1305.NonceLength..], body[..XSalsa20Poly1305.NonceLength]);
        }

        return opened ? plain : throw new EncryptionException(storageKey, $"output array too small or message authentication failed (key {KeyName})");
    }

    public void Dispose() => _box.Dispose();
}
