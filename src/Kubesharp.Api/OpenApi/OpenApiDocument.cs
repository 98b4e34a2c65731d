using System.Security.Cryptography;

namespace Kubesharp.Api.OpenApi;

/// <summary>A published OpenAPI document: JSON bytes ready to serve, with their content hash.</summary>
public sealed class OpenApiDocument
{
    public OpenApiDocument(byte[] json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Json = json;
        Hash = Convert.ToHexString(SHA512.HashData(json));
    }

    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>Upper-case hex SHA-512 of <see cref="Json"/>: the <c>hash</c> query value of the v3 index.</summary>
    public string Hash { get; }

    /// <summary>The strong entity tag for the ETag header (quoted hash).</summary>
    public string ETag => $"\"{Hash}\"";
}
