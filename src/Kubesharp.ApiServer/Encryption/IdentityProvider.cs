namespace Kubesharp.ApiServer.Encryption;

/// <summary>Stores values as they are; refuses to hand out a value another provider encrypted.</summary>
internal sealed class IdentityProvider() : EncryptionProvider("identity", string.Empty)
{
    public static readonly IdentityProvider Instance = new();

    public override byte[] Encrypt(ReadOnlySpan<byte> plain, string storageKey) => plain.ToArray();

    public override byte[] Decrypt(ReadOnlySpan<byte> stored, string storageKey) => stored.ToArray();
}
