using System.Security.Cryptography;

namespace Kubesharp.Kubelet.Images;

/// <summary>Content-addressed bytes of an image: a layer, a config or a manifest.</summary>
public sealed class OciBlob
{
    public OciBlob(string mediaType, byte[] content)
    {
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        ArgumentNullException.ThrowIfNull(content);
        MediaType = mediaType;
        Content = content;
        Digest = DigestOf(content);
    }

    public string MediaType { get; }

    public byte[] Content { get; }

    /// <summary>"sha256:" and the lower-case hex SHA-256 of the content.</summary>
    public string Digest { get; }

    public long Size => Content.LongLength;

    public static string DigestOf(ReadOnlySpan<byte> content) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
