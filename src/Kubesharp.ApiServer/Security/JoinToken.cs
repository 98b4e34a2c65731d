using System.Security.Cryptography;
using System.Text;

namespace Kubesharp.ApiServer.Security;

/// <summary>
/// The token an agent joins with, in k3s's form <c>K10&lt;sha256 of the cluster CA, hex&gt;::&lt;credentials&gt;</c>: the
/// hash pins the CA the agent must find at <see cref="CaCertificatesPath"/>, the credentials are the bearer token.
/// </summary>
public static class JoinToken
{
    /// <summary>Where the server serves its CA (public: it is what the pin checks).</summary>
    public const string CaCertificatesPath = "/cacerts";

    private const string Prefix = "K10";
    private const string Separator = "::";

    /// <summary>The hex SHA-256 of the CA bundle exactly as the server serves it.</summary>
    public static string CaHash(string caPem) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(caPem)));

    public static string Format(string caPem, string credentials) => Prefix + CaHash(caPem) + Separator + credentials;

    /// <summary>Splits a token into its CA pin (null for a bare token) and its credentials.</summary>
    public static (string? CaHash, string Credentials) Parse(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var separator = token.IndexOf(Separator, StringComparison.Ordinal);
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || separator < 0)
        {
            return (null, token);
        }

        return (token[Prefix.Length..separator].ToLowerInvariant(), token[(separator + Separator.Length)..]);
    }
}
