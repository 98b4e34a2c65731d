using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;

namespace Kubesharp.Kubelet.Volumes;

/// <summary>
/// The tokens of projected serviceAccountToken sources, requested through TokenRequest bound to their pod and kept
/// until 80% of their lifetime (or 24 hours) has passed, as the kubelet's token manager does; a pod's sync then
/// writes the fresh one.
/// </summary>
internal sealed class ServiceAccountTokenCache(KubernetesClient client, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);

    public async Task<byte[]> GetAsync(Pod pod, ServiceAccountTokenProjection projection, CancellationToken cancellationToken)
    {
        var meta = pod.Metadata!;
        var account = pod.Spec?.ServiceAccountName ?? "default";
        var expiration = projection.ExpirationSeconds ?? 3600;
        var key = $"{meta.Uid}/{account}/{projection.Audience}/{expiration}";
        var now = time.GetUtcNow();
        if (_tokens.TryGetValue(key, out var cached) && !cached.NeedsRefresh(now))
        {
            return cached.Token;
        }

        var spec = new JsonObject
        {
            ["expirationSeconds"] = expiration,
            ["boundObjectRef"] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["name"] = meta.Name, ["uid"] = meta.Uid },
        };
        if (!string.IsNullOrEmpty(projection.Audience))
        {
            spec["audiences"] = new JsonArray(projection.Audience);
        }

        var request = new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest", ["spec"] = spec };
        JsonObject? answer;
        try
        {
            answer = await client.SendJsonAsync(HttpMethod.Post, $"/api/v1/namespaces/{meta.Namespace}/serviceaccounts/{account}/token", request, cancellationToken);
        }
        catch (StatusException e)
        {
            throw new VolumeSetupException($"failed to fetch token: {e.Message}");
        }

        if (answer?["status"]?["token"]?.GetValue<string>() is not { Length: > 0 } token)
        {
            throw new VolumeSetupException($"failed to fetch token: serviceaccounts \"{account}\" not found");
        }

        var expires = answer["status"]?["expirationTimestamp"]?.GetValue<string>() is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : now.AddSeconds(expiration);
        var fresh = new CachedToken(Encoding.UTF8.GetBytes(token), now, expires);
        _tokens[key] = fresh;
        return fresh.Token;
    }

    /// <summary>Forgets the tokens of a pod that is gone from this node.</summary>
    public void Forget(string podUid)
    {
        foreach (var key in _tokens.Keys.Where(k => k.StartsWith(podUid + "/", StringComparison.Ordinal)))
        {
            _tokens.TryRemove(key, out _);
        }
    }

    public int Count => _tokens.Count;

    private sealed record CachedToken(byte[] Token, DateTimeOffset IssuedAt, DateTimeOffset Expires)
    {
        public bool NeedsRefresh(DateTimeOffset now) =>
            now >= IssuedAt + (Expires - IssuedAt) * 0.8 || now >= IssuedAt + MaxAge;
    }
}
