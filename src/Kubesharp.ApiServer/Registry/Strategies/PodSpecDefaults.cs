using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// Upstream's scheme defaults for a pod spec, in one place for Pods and every pod template (PodTemplate,
/// ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob). Clients such as
/// <c>kubectl describe</c> read these fields without checking for their absence. All defaults are idempotent.
/// </summary>
internal static class PodSpecDefaults
{
    /// <summary>The mode of secret, configMap, downwardAPI and projected volume files (0644).</summary>
    public const int VolumeFileMode = 420;

    /// <summary>A projected service account token lives an hour unless the pod asks otherwise.</summary>
    public const long TokenExpirationSeconds = 3600;

    private static readonly string[] ContainerLists = ["initContainers", "containers", "ephemeralContainers"];

    /// <summary>The defaults of a pod template's spec.</summary>
    public static void ForTemplate(JsonObject spec)
    {
        ResourceStrategy.Default(spec, "dnsPolicy", "ClusterFirst");
        ResourceStrategy.Default(spec, "restartPolicy", "Always");
        ResourceStrategy.Default(spec, "securityContext", new JsonObject());
        ResourceStrategy.Default(spec, "terminationGracePeriodSeconds", 30);
        ResourceStrategy.Default(spec, "schedulerName", "default-scheduler");
        foreach (var volume in Items(spec["volumes"]))
        {
            DefaultVolume(volume);
        }

        foreach (var list in ContainerLists)
        {
            foreach (var container in Items(spec[list]))
            {
                DefaultContainer(container);
            }
        }
    }

    /// <summary>
    /// The defaults of a Pod's spec: a template's plus those upstream gives only to Pods (so that applying a
    /// workload twice stays unchanged): requests from limits, service links, host ports on the host network.
    /// </summary>
    public static void ForPod(JsonObject spec)
    {
        ForTemplate(spec);
        ResourceStrategy.Default(spec, "enableServiceLinks", true);
        var hostNetwork = spec["hostNetwork"] is JsonValue h && h.TryGetValue<bool>(out var onHost) && onHost;
        foreach (var list in new[] { "initContainers", "containers" })
        {
            foreach (var container in Items(spec[list]))
            {
                if (container["resources"] is JsonObject resources && resources["limits"] is JsonObject { Count: > 0 } limits)
                {
                    var requests = ResourceStrategy.Ensure(resources, "requests");
                    foreach (var (name, limit) in limits)
                    {
                        ResourceStrategy.Default(requests, name, limit?.DeepClone()!);
                    }
                }

                if (hostNetwork)
                {
                    foreach (var port in Items(container["ports"]))
                    {
                        if (port["hostPort"] is null || JsonNumber.Int64(port["hostPort"]) == 0)
                        {
                            port["hostPort"] = port["containerPort"]?.DeepClone();
                        }
                    }
                }
            }
        }
    }

    private static void DefaultContainer(JsonObject container)
    {
        if (container["imagePullPolicy"] is null && (string?)container["image"] is { } image)
        {
            container["imagePullPolicy"] = PullPolicyFor(image);
        }

        ResourceStrategy.Default(container, "terminationMessagePath", "/dev/termination-log");
        ResourceStrategy.Default(container, "terminationMessagePolicy", "File");
        ResourceStrategy.Default(container, "resources", new JsonObject());
        foreach (var port in Items(container["ports"]))
        {
            ResourceStrategy.Default(port, "protocol", "TCP");
        }

        foreach (var env in Items(container["env"]))
        {
            DefaultFieldRef(env["valueFrom"]?["fieldRef"]);
        }

        foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            if (container[probe] is JsonObject p)
            {
                ResourceStrategy.Default(p, "timeoutSeconds", 1);
                ResourceStrategy.Default(p, "periodSeconds", 10);
                ResourceStrategy.Default(p, "successThreshold", 1);
                ResourceStrategy.Default(p, "failureThreshold", 3);
                DefaultHttpGet(p["httpGet"]);
                if (p["grpc"] is JsonObject grpc)
                {
                    ResourceStrategy.Default(grpc, "service", string.Empty);
                }
            }
        }

        foreach (var hook in new[] { "postStart", "preStop" })
        {
            DefaultHttpGet(container["lifecycle"]?[hook]?["httpGet"]);
        }
    }

    private static void DefaultVolume(JsonObject volume)
    {
        // A volume naming no source is an emptyDir.
        if (volume.All(p => p.Key == "name"))
        {
            volume["emptyDir"] = new JsonObject();
        }

        if (volume["hostPath"] is JsonObject hostPath)
        {
            ResourceStrategy.Default(hostPath, "type", string.Empty);
        }

        foreach (var source in new[] { "secret", "configMap", "downwardAPI", "projected" })
        {
            if (volume[source] is JsonObject files)
            {
                ResourceStrategy.Default(files, "defaultMode", VolumeFileMode);
            }
        }

        foreach (var item in Items(volume["downwardAPI"]?["items"]))
        {
            DefaultFieldRef(item["fieldRef"]);
        }

        foreach (var projection in Items(volume["projected"]?["sources"]))
        {
            foreach (var item in Items(projection["downwardAPI"]?["items"]))
            {
                DefaultFieldRef(item["fieldRef"]);
            }

            if (projection["serviceAccountToken"] is JsonObject token)
            {
                ResourceStrategy.Default(token, "expirationSeconds", TokenExpirationSeconds);
            }
        }

        if (volume["iscsi"] is JsonObject iscsi)
        {
            ResourceStrategy.Default(iscsi, "iscsiInterface", "default");
        }

        if (volume["rbd"] is JsonObject rbd)
        {
            ResourceStrategy.Default(rbd, "pool", "rbd");
            ResourceStrategy.Default(rbd, "user", "admin");
            ResourceStrategy.Default(rbd, "keyring", "/etc/ceph/keyring");
        }

        if (volume["azureDisk"] is JsonObject azureDisk)
        {
            ResourceStrategy.Default(azureDisk, "cachingMode", "ReadWrite");
            ResourceStrategy.Default(azureDisk, "fsType", "ext4");
            ResourceStrategy.Default(azureDisk, "readOnly", false);
            ResourceStrategy.Default(azureDisk, "kind", "Shared");
        }

        if (volume["scaleIO"] is JsonObject scaleIo)
        {
            ResourceStrategy.Default(scaleIo, "storageMode", "ThinProvisioned");
            ResourceStrategy.Default(scaleIo, "fsType", "xfs");
        }

        if (volume["ephemeral"]?["volumeClaimTemplate"]?["spec"] is JsonObject claimSpec)
        {
            ResourceStrategy.Default(claimSpec, "volumeMode", "Filesystem");
        }

        if (volume["image"] is JsonObject imageVolume && imageVolume["pullPolicy"] is null && (string?)imageVolume["reference"] is { } reference)
        {
            imageVolume["pullPolicy"] = PullPolicyFor(reference);
        }
    }

    private static void DefaultFieldRef(JsonNode? fieldRef)
    {
        if (fieldRef is JsonObject selector)
        {
            ResourceStrategy.Default(selector, "apiVersion", "v1");
        }
    }

    private static void DefaultHttpGet(JsonNode? action)
    {
        if (action is JsonObject httpGet)
        {
            ResourceStrategy.Default(httpGet, "path", "/");
            ResourceStrategy.Default(httpGet, "scheme", "HTTP");
        }
    }

    /// <summary>Always for the latest tag (also when no tag and no digest is given), IfNotPresent otherwise.</summary>
    private static string PullPolicyFor(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var named = at >= 0 ? image[..at] : image;
        var lastSegment = named[(named.LastIndexOf('/') + 1)..];
        var colon = lastSegment.LastIndexOf(':');
        var tag = colon >= 0 ? lastSegment[(colon + 1)..] : at >= 0 ? string.Empty : "latest";
        return tag == "latest" ? "Always" : "IfNotPresent";
    }

    private static IEnumerable<JsonObject> Items(JsonNode? list) => (list as JsonArray)?.OfType<JsonObject>() ?? [];
}
