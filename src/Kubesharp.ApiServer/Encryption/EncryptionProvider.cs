using System.Text;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>
/// One key of one provider of an EncryptionConfiguration: values it writes start with its prefix
/// (<c>k8s:enc:KIND:v1:NAME:</c>), so a reader finds the key a value was written with.
/// </summary>
internal abstract class EncryptionProvider
{
    public const string EncryptedPrefix = "k8s:enc:";

    protected EncryptionProvider(string kind, string keyName)
    {
        Kind = kind;
        KeyName = keyName;
        Prefix = keyName.Length == 0 ? [] : Encoding.UTF8.GetBytes($"{EncryptedPrefix}{kind}:v1:{keyName}:");
    }

    /// <summary>identity, aescbc, aesgcm or secretbox.</summary>
    public string Kind { get; }

    /// <summary>The key's name in the configuration (empty for identity).</summary>
    public string KeyName { get; }

    public byte[] Prefix { get; }

    /// <summary>The stored bytes for <paramref name="plain"/>; <paramref name="storageKey"/> is authenticated where the cipher can.</summary>
    public abstract byte[] Encrypt(ReadOnlySpan<byte> plain, string storageKey);

    /// <summary>The plain bytes of <paramref name="stored"/> (which starts with <see cref="Prefix"/>).</summary>
    /// <exception cref="EncryptionException">The value does not decrypt with this key.</exception>
    public abstract byte[] Decrypt(ReadOnlySpan<byte> stored, string storageKey);

    protected byte[] WithPrefix(int bodyLength, out Span<byte> body)
    {
        var result = new byte[Prefix.Length + bodyLength];
        Prefix.CopyTo(result, 0);
        body = result.AsSpan(Prefix.Length);
        return result;
    }
}
