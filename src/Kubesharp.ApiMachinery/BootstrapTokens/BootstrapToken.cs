using System.Globalization;
using System.Text.RegularExpressions;

namespace Kubesharp.ApiMachinery.BootstrapTokens;

/// <summary>
/// Bootstrap tokens as upstream defines them: <c>&lt;id&gt;.&lt;secret&gt;</c>, each kept in a Secret of type
/// <see cref="SecretType"/> named <c>bootstrap-token-&lt;id&gt;</c> in kube-system, whose data says what the token may do.
/// </summary>
public static partial class BootstrapToken
{
    public const string SecretType = "bootstrap.kubernetes.io/token";
    public const string SecretNamespace = "kube-system";
    public const string SecretNamePrefix = "bootstrap-token-";

    public const string TokenIdKey = "token-id";
    public const string TokenSecretKey = "token-secret";
    public const string ExpirationKey = "expiration";
    public const string DescriptionKey = "description";
    public const string ExtraGroupsKey = "auth-extra-groups";
    public const string UsagePrefix = "usage-bootstrap-";
    public const string UsageAuthenticationKey = UsagePrefix + "authentication";
    public const string UsageSigningKey = UsagePrefix + "signing";

    /// <summary>The group every bootstrap token authenticates in.</summary>
    public const string DefaultGroup = "system:bootstrappers";

    /// <summary>The extra group of node join tokens (kubeadm's and k3s's default-node-token): RBAC lets it join nodes.</summary>
    public const string DefaultNodeTokenGroup = "system:bootstrappers:kubesharp:default-node-token";

    /// <summary>Token users are <c>system:bootstrap:&lt;id&gt;</c>.</summary>
    public const string UserPrefix = "system:bootstrap:";

    /// <summary>The usages a token may name (the <c>usage-bootstrap-*</c> keys).</summary>
    public static readonly IReadOnlyList<string> KnownUsages = ["signing", "authentication"];

    [GeneratedRegex("^([a-z0-9]{6})\\.([a-z0-9]{16})$", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex("^[a-z0-9]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex("^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ExtraGroupPattern();

    public static string SecretName(string tokenId) => SecretNamePrefix + tokenId;

    /// <summary>Splits <c>&lt;id&gt;.&lt;secret&gt;</c>; false for anything else.</summary>
    public static bool TryParse(string token, out string id, out string secret)
    {
        ArgumentNullException.ThrowIfNull(token);
        var match = TokenPattern().Match(token);
        id = match.Success ? match.Groups[1].Value : string.Empty;
        secret = match.Success ? match.Groups[2].Value : string.Empty;
        return match.Success;
    }

    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    public static bool IsValidExtraGroup(string group) => ExtraGroupPattern().IsMatch(group);

    /// <summary>
    /// The groups of a token: <see cref="DefaultGroup"/> and its <c>auth-extra-groups</c>, sorted and without duplicates;
    /// null when an extra group is not a <c>system:bootstrappers:</c> name (the token then authenticates no one).
    /// </summary>
    public static IReadOnlyList<string>? Groups(string? extraGroups)
    {
        var groups = new SortedSet<string>(StringComparer.Ordinal) { DefaultGroup };
        if (!string.IsNullOrEmpty(extraGroups))
        {
            foreach (var group in extraGroups.Split(','))
            {
                if (!IsValidExtraGroup(group))
                {
                    return null;
                }

                groups.Add(group);
            }
        }

        return [.. groups];
    }

    /// <summary>Parses an RFC 3339 <c>expiration</c>; false when it is not one.</summary>
    public static bool TryParseExpiration(string expiration, out DateTimeOffset expiresAt) =>
        DateTimeOffset.TryParseExact(expiration, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out expiresAt);

    public static string FormatExpiration(DateTimeOffset expiresAt) =>
        expiresAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// How long a token with this <c>expiration</c> has left at <paramref name="now"/>: null when it never expires, negative
    /// once it has passed. An expiration that does not parse counts as long expired, as upstream.
    /// </summary>
    public static TimeSpan? TimeLeft(string? expiration, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(expiration))
        {
            return null;
        }

        return TryParseExpiration(expiration, out var expiresAt) ? expiresAt - now : TimeSpan.MinValue;
    }
}
