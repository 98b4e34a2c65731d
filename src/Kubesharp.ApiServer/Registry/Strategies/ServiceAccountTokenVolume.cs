using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// What upstream's ServiceAccount admission adds to a new pod: the projected kube-api-access-XXXXX volume (a bound
/// token, the cluster CA from the kube-root-ca.crt ConfigMap, the namespace) mounted read-only at
/// /var/run/secrets/kubernetes.io/serviceaccount in every container that has nothing mounted there, unless
/// automountServiceAccountToken is false on the pod or, when the pod does not say, on its service account.
/// </summary>
internal static class ServiceAccountTokenVolume
{
    public const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
    public const string VolumePrefix = "kube-api-access-";
    public const string RootCaConfigMap = "kube-root-ca.crt";

    /// <summary>The kubelet's token lifetime: upstream's 3607 seconds, which marks tokens the kubelet refreshes.</summary>
    public const long TokenExpirationSeconds = 3607;

    // The alphabet of upstream's generated name suffixes: no vowels, no look-alike digits.
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static void Mount(JsonObject pod, JsonObject spec, WatchCache cache)
    {
        if (pod["metadata"]?["annotations"]?["kubernetes.io/config.mirror"] is not null || !ShouldAutomount(pod, spec, cache))
        {
            return;
        }

        var volumes = spec["volumes"] as JsonArray;
        var existing = volumes?.OfType<JsonObject>().Select(v => (string?)v["name"]).FirstOrDefault(n => n?.StartsWith(VolumePrefix, StringComparison.Ordinal) == true);
        var volumeName = existing ?? VolumePrefix + RandomNumberGenerator.GetString(SuffixAlphabet, 5);
        var needed = false;
        foreach (var list in new[] { "initContainers", "containers" })
        {
            foreach (var container in (spec[list] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                var mounts = container["volumeMounts"] as JsonArray;
                if (mounts?.OfType<JsonObject>().Any(m => (string?)m["mountPath"] == MountPath) == true)
                {
                    continue;
                }

                if (mounts is null)
                {
                    mounts = [];
                    container["volumeMounts"] = mounts;
                }

                mounts.Add((JsonNode?)new JsonObject { ["name"] = volumeName, ["readOnly"] = true, ["mountPath"] = MountPath });
                needed = true;
            }
        }

        if (existing is null && needed)
        {
            if (volumes is null)
            {
                volumes = [];
                spec["volumes"] = volumes;
            }

            volumes.Add((JsonNode?)Volume(volumeName));
        }
    }

    private static bool ShouldAutomount(JsonObject pod, JsonObject spec, WatchCache cache)
    {
        if (spec["automountServiceAccountToken"] is JsonValue podChoice && podChoice.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return podChoice.GetValue<bool>();
        }

        var ns = (string?)pod["metadata"]?["namespace"];
        var account = (string?)spec["serviceAccountName"];
        if (ns is null || account is null)
        {
            return true;
        }

        var stored = cache.For("serviceaccounts").Get($"{WatchCache.RegistryPrefix}serviceaccounts/{ns}/{account}");
        return stored is null || !stored.Root.TryGetProperty("automountServiceAccountToken", out var choice) || choice.ValueKind != JsonValueKind.False;
    }

    private static JsonObject Volume(string name) => new()
    {
        ["name"] = name,
        ["projected"] = new JsonObject
        {
            ["sources"] = new JsonArray(
                new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = TokenExpirationSeconds, ["path"] = "token" } },
                new JsonObject
                {
                    ["configMap"] = new JsonObject
                    {
                        ["name"] = RootCaConfigMap,
                        ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }),
                    },
                },
                new JsonObject
                {
                    ["downwardAPI"] = new JsonObject
                    {
                        ["items"] = new JsonArray(new JsonObject
                        {
                            ["path"] = "namespace",
                            ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                        }),
                    },
                }),
            ["defaultMode"] = 420,
        },
    };
}
