using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Security.BootstrapTokens;

/// <summary>
/// Upstream's bootstrap token authenticator: a bearer token <c>&lt;id&gt;.&lt;secret&gt;</c> is the user
/// <c>system:bootstrap:&lt;id&gt;</c> while its Secret in kube-system exists, has the bootstrap type, holds that id and
/// secret, has not expired and allows authentication; its groups are system:bootstrappers and its extra groups.
/// </summary>
internal sealed class BootstrapTokenAuthenticator(WatchCache cache, TimeProvider time)
{
    /// <summary>The token's user, or null when the token is not a bootstrap token or not a valid one.</summary>
    public UserInfo? Authenticate(string token)
    {
        if (!BootstrapToken.TryParse(token, out var id, out var secret))
        {
            return null;
        }

        var key = $"{WatchCache.RegistryPrefix}secrets/{BootstrapToken.SecretNamespace}/{BootstrapToken.SecretName(id)}";
        if (cache.For("secrets").Get(key) is not { } stored)
        {
            return null;
        }

        var root = stored.Root;
        if (stored.Metadata.TryGetProperty("deletionTimestamp", out var deleting) && deleting.ValueKind != JsonValueKind.Null ||
            !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != BootstrapToken.SecretType ||
            !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // Compared in constant time, so the answer's timing tells nothing about the stored secret.
        if (Value(data, BootstrapToken.TokenSecretKey) is not { } storedSecret ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(storedSecret), Encoding.UTF8.GetBytes(secret)) ||
            Value(data, BootstrapToken.TokenIdKey) != id ||
            BootstrapToken.TimeLeft(Value(data, BootstrapToken.ExpirationKey), time.GetUtcNow()) < TimeSpan.Zero ||
            Value(data, BootstrapToken.UsageAuthenticationKey) != "true" ||
            BootstrapToken.Groups(Value(data, BootstrapToken.ExtraGroupsKey)) is not { } groups)
        {
            return null;
        }

        return new UserInfo(BootstrapToken.UserPrefix + id, [.. groups, UserInfo.AuthenticatedGroup]);
    }

    /// <summary>A data value (base64 in the stored JSON) as text; null when absent or not base64.</summary>
    private static string? Value(JsonElement data, string key)
    {
        if (!data.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String || !value.TryGetBytesFromBase64(out var bytes))
        {
            return null;
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
