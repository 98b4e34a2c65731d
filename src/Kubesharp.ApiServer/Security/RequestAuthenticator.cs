using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.ApiServer.Security.ServiceAccountTokens;

namespace Kubesharp.ApiServer.Security;

/// <summary>
/// Authenticates a request by a client certificate signed by the cluster CA (CN = user, O = groups) or by a
/// bearer token: a service-account token, a bootstrap token, or one from DATA/server/token-auth.csv (kube-apiserver's
/// token file format: token,user,uid,"groups").
/// </summary>
internal sealed class RequestAuthenticator
{
    /// <summary>The user of the node token the token file starts with.</summary>
    public const string AgentUser = "kubesharp-agent";

    private readonly X509Certificate2 _ca;
    private readonly Dictionary<string, UserInfo> _tokens;
    private readonly ConcurrentDictionary<string, UserInfo?> _verifiedCertificates = new(StringComparer.Ordinal);

    public RequestAuthenticator(X509Certificate2 ca, Dictionary<string, UserInfo> tokens)
    {
        _ca = ca;
        _tokens = tokens;
    }

    /// <summary>Validates service-account tokens; set once the watch cache exists.</summary>
    internal ServiceAccountTokenAuthenticator? ServiceAccountTokens { get; set; }

    /// <summary>Validates bootstrap tokens against their Secrets; set once the watch cache exists.</summary>
    internal BootstrapTokens.BootstrapTokenAuthenticator? BootstrapTokens { get; set; }

    public UserInfo? Authenticate(X509Certificate2? clientCertificate, string? authorization)
    {
        if (clientCertificate is not null)
        {
            var user = _verifiedCertificates.GetOrAdd(clientCertificate.Thumbprint, _ => Verify(clientCertificate));
            if (user is not null)
            {
                return user;
            }
        }

        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization["Bearer ".Length..].Trim();
            if (ServiceAccountTokens is { } serviceAccounts && JsonWebToken.LooksLikeOne(token))
            {
                return serviceAccounts.Authenticate(token, null, out _);
            }

            if (BootstrapTokens?.Authenticate(token) is { } bootstrapUser)
            {
                return bootstrapUser;
            }

            foreach (var (known, user) in _tokens)
            {
                if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), Encoding.UTF8.GetBytes(token)))
                {
                    return user;
                }
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="token"/> is the token file's node token, the one servers join each other with.</summary>
    public bool IsServerToken(string token)
    {
        var presented = Encoding.UTF8.GetBytes(token);
        var found = false;
        foreach (var (known, user) in _tokens)
        {
            found |= user.Name == AgentUser && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), presented);
        }

        return found;
    }

    /// <summary>
    /// A bearer token as a TokenReview asks: for the given audiences (the API's own when none). The token file's tokens
    /// know no audience, so they pass only for the API's own audiences, as upstream's audience-agnostic authenticators.
    /// </summary>
    public UserInfo? AuthenticateToken(string token, IReadOnlyList<string>? audiences, IReadOnlyList<string> apiAudiences, out IReadOnlyList<string> matched)
    {
        if (ServiceAccountTokens is { } serviceAccounts && JsonWebToken.LooksLikeOne(token))
        {
            return serviceAccounts.Authenticate(token, audiences is { Count: > 0 } ? audiences : null, out matched);
        }

        matched = audiences is { Count: > 0 } ? [.. audiences.Where(apiAudiences.Contains)] : apiAudiences;
        return matched.Count == 0 ? null : Authenticate(null, "Bearer " + token);
    }

    private UserInfo? Verify(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
        if (!chain.Build(certificate))
        {
            return null;
        }

        string? name = null;
        var groups = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var oid = rdn.GetSingleElementType().Value;
            var value = rdn.GetSingleElementValue();
            if (value is null)
            {
                continue;
            }

            if (oid == "2.5.4.3")
            {
                name = value;
            }
            else if (oid == "2.5.4.10")
            {
                groups.Add(value);
            }
        }

        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        groups.Add("system:authenticated");
        return new UserInfo(name, groups);
    }

    /// <summary>Reads the token file, creating it with one random node-agent token when absent.</summary>
    public static Dictionary<string, UserInfo> LoadOrCreateTokens(string dataDir)
    {
        var path = TokenFilePath(dataDir);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            File.WriteAllText(path, $"{token},{AgentUser},{AgentUser},\"system:nodes,system:masters\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var tokens = new Dictionary<string, UserInfo>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path))
        {
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                continue;
            }

            var fields = SplitCsv(line);
            if (fields.Count < 2)
            {
                continue;
            }

            var groups = fields.Count > 3 ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() : [];
            groups.Add("system:authenticated");
            tokens[fields[0]] = new UserInfo(fields[1], groups);
        }

        return tokens;
    }

    public static string TokenFilePath(string dataDir) => Path.Combine(dataDir, "server", "token-auth.csv");

    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }
}
