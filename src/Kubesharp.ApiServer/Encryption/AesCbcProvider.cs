using System.Security.Cryptography;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>AES-CBC with PKCS#7 padding: a random 16-byte IV, then the ciphertext.</summary>
internal sealed class AesCbcProvider : EncryptionProvider, IDisposable
{
    private const int BlockSize = 16;
    // An Aes instance is not documented safe for concurrent use; each thread gets its own.
    private readonly ThreadLocal<Aes> _aes;

    public AesCbcProvider(string keyName, byte[] key)
        : base("aescbc", keyName)
    {
        _aes = new ThreadLocal<Aes>(
            () =>
            {
                var aes = Aes.Create();
                aes.Key = key;
                return aes;
            },
            trackAllValues: true);
    }

    public override byte[] Encrypt(ReadOnlySpan<byte> plain, string storageKey)
    {
        var length = _aes.Value!.GetCiphertextLengthCbc(plain.Length);
        var result = WithPrefix(BlockSize + length, out var body);
        RandomNumberGenerator.Fill(body[..BlockSize]);
        _aes.Value!.EncryptCbc(plain, body[..BlockSize], body[BlockSize..]);
        return result;
    }

    public override byte[] Decrypt(ReadOnlySpan<byte> stored, string storageKey)
    {
        var body = stored[Prefix.Length..];
        if (body.Length < 2 * BlockSize || body.Length % BlockSize != 0)
        {
            throw new EncryptionException(storageKey, "the stored data is not a whole number of AES blocks");
        }

        try
        {
            return _aes.Value!.DecryptCbc(body[BlockSize..], body[..BlockSize]);
        }
        catch (CryptographicException ex)
        {
            throw new EncryptionException(storageKey, $"invalid padding on input (key {KeyName})", ex);
        }
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
