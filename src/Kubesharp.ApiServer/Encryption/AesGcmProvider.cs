using System.Security.Cryptography;
using System.Text;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>AES-GCM: a random 12-byte nonce, the ciphertext, then the 16-byte tag; the storage key is the associated data.</summary>
internal sealed class AesGcmProvider : EncryptionProvider, IDisposable
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    // AesGcm is not safe for concurrent use: requests encrypting at once on one instance store ciphertext that never
    // decrypts. Each thread gets its own.
    private readonly ThreadLocal<AesGcm> _aes;

    public AesGcmProvider(string keyName, byte[] key)
        : base("aesgcm", keyName)
    {
        _aes = new ThreadLocal<AesGcm>(() => new AesGcm(key, TagSize), trackAllValues: true);
    }

    public override byte[] Encrypt(ReadOnlySpan<byte> plain, string storageKey)
    {
        var result = WithPrefix(NonceSize + plain.Length + TagSize, out var body);
        var nonce = body[..NonceSize];
        RandomNumberGenerator.Fill(nonce);
        _aes.Value!.Encrypt(nonce, plain, body.Slice(NonceSize, plain.Length), body[(NonceSize + plain.Length)..], Encoding.UTF8.GetBytes(storageKey));
        return result;
    }

    public override byte[] Decrypt(ReadOnlySpan<byte> stored, string storageKey)
    {
        var body = stored[Prefix.Length..];
        if (body.Length < NonceSize + TagSize)
        {
            throw new EncryptionException(storageKey, "the stored data is shorter than an AES-GCM nonce and tag");
        }

        var plain = new byte[body.Length - NonceSize - TagSize];
        try
        {
            _aes.Value!.Decrypt(body[..NonceSize], body.Slice(NonceSize, plain.Length), body[(NonceSize + plain.Length)..], plain, Encoding.UTF8.GetBytes(storageKey));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new EncryptionException(storageKey, $"cipher: message authentication failed (key {KeyName})", ex);
        }

        return plain;
    }

    public void Dispose()
    {
        foreach (var aes in _aes.Values)
        {
            aes.Dispose();
        }

        _aes.Dispose();
    }
}
