using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's NodeRestriction: what a kubelet (system:node:NAME in system:nodes) writes is limited to its own
/// objects. It creates only mirror pods bound to itself that reference no service account, Secret, ConfigMap or claim,
/// deletes and evicts only pods bound to it and updates their status only; it creates and changes only its own Node,
/// never its taints after registration nor labels outside the set kubelets may set themselves (node-restriction.
/// kubernetes.io/ is for administrators); it writes only its own Lease and CSINode. The node authorizer decides what a
/// node may reach; this decides what the object it writes may say, which the authorizer cannot see (a create's name).
/// </summary>
internal sealed class NodeRestrictionPlugin(ResourceRegistry registry) : IValidatingAdmissionPlugin
{
    private const string MirrorAnnotation = "kubernetes.io/config.mirror";
    private const string RestrictionLabelDomain = "node-restriction.kubernetes.io";

    /// <summary>Labels in the kubernetes.io and k8s.io domains that a kubelet sets for itself.</summary>
    private static readonly HashSet<string> KubeletLabels = new(StringComparer.Ordinal)
    {
        "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
        "beta.kubernetes.io/arch", "beta.kubernetes.io/os",
    };

    private readonly ApiResource? _pods = registry.FindByGroupResource("pods");

    public string Name => "NodeRestriction";

    public bool Handles(AdmissionAttributes attributes) =>
        NodeAuthorizer.NodeName(attributes.User) is not null &&
        attributes.Resource.GroupResource is "pods" or "nodes" or "leases.coordination.k8s.io" or "csinodes.storage.k8s.io";

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var node = NodeAuthorizer.NodeName(attributes.User)!;
        switch (attributes.Resource.GroupResource)
        {
            case "pods":
                AdmitPod(attributes, node);
                break;
            case "nodes":
                AdmitNode(attributes, node);
                break;
            case "leases.coordination.k8s.io":
                if (attributes.Name != node)
                {
                    throw attributes.Forbidden("can only access node lease with the same name as the requesting node");
                }

                break;
            default:
                if (attributes.Name != node)
                {
                    throw attributes.Forbidden($"node \"{node}\" is not allowed to modify object \"{attributes.Name}\"");
                }

                break;
        }

        return ValueTask.CompletedTask;
    }

    private void AdmitPod(AdmissionAttributes attributes, string node)
    {
        switch (attributes.Subresource, attributes.Operation)
        {
            case ("", AdmissionOperation.Create):
                AdmitMirrorPod(attributes, node);
                break;
            case ("", AdmissionOperation.Delete):
                if (StoredPodNode(attributes) != node)
                {
                    throw attributes.Forbidden($"node \"{node}\" can only delete pods with spec.nodeName set to itself");
                }

                break;
            case ("status", _):
                if (StoredPodNode(attributes) != node)
                {
                    throw attributes.Forbidden($"node \"{node}\" can only update pod status for pods with spec.nodeName set to itself");
                }

                break;
            case ("eviction", _):
                if (StoredPodNode(attributes) != node)
                {
                    throw attributes.Forbidden($"node \"{node}\" can only evict pods with spec.nodeName set to itself");
                }

                break;
            case ("", _):
                throw attributes.Forbidden($"unexpected operation \"{attributes.OperationName}\", node \"{node}\" can only create and delete mirror pods");
        }
    }

    private static void AdmitMirrorPod(AdmissionAttributes attributes, string node)
    {
        var pod = attributes.Object ?? [];
        if (pod["metadata"]?["annotations"]?[MirrorAnnotation] is null)
        {
            throw attributes.Forbidden($"pod does not have \"{MirrorAnnotation}\" annotation, node \"{node}\" can only create mirror pods");
        }

        var spec = pod["spec"] as JsonObject ?? [];
        if ((string?)spec["nodeName"] != node)
        {
            throw attributes.Forbidden($"node \"{node}\" can only create pods with spec.nodeName set to itself");
        }

        if (pod["metadata"]?["ownerReferences"] is JsonArray { Count: > 0 } owners &&
            (owners.Count > 1 || owners[0] is not JsonObject owner || (string?)owner["kind"] != "Node" || (string?)owner["apiVersion"] != "v1" || (string?)owner["name"] != node || owner["controller"]?.GetValue<bool>() != true))
        {
            throw attributes.Forbidden($"node \"{node}\" can only create pods with a single owner reference set to itself");
        }

        if ((string?)spec["serviceAccountName"] is { Length: > 0 })
        {
            throw attributes.Forbidden($"node \"{node}\" can not create pods that reference a service account");
        }

        var text = spec.ToJsonString();
        if (spec["imagePullSecrets"] is JsonArray { Count: > 0 } || text.Contains("\"secretName\"", StringComparison.Ordinal) ||
            text.Contains("\"secretKeyRef\"", StringComparison.Ordinal) || text.Contains("\"secretRef\"", StringComparison.Ordinal) ||
            Volumes(spec).Any(v => v["projected"]?["sources"] is JsonArray sources && sources.Any(s => s?["secret"] is not null)))
        {
            throw attributes.Forbidden($"node \"{node}\" can not create pods that reference secrets");
        }

        if (Volumes(spec).Any(v => v["configMap"] is not null || (v["projected"]?["sources"] is JsonArray sources && sources.Any(s => s?["configMap"] is not null))) ||
            text.Contains("\"configMapKeyRef\"", StringComparison.Ordinal) || text.Contains("\"configMapRef\"", StringComparison.Ordinal))
        {
            throw attributes.Forbidden($"node \"{node}\" can not create pods that reference configmaps");
        }

        if (Volumes(spec).Any(v => v["persistentVolumeClaim"] is not null || v["ephemeral"] is not null))
        {
            throw attributes.Forbidden($"node \"{node}\" can not create pods that reference persistentvolumeclaims");
        }
    }

    private static IEnumerable<JsonObject> Volumes(JsonObject spec) =>
        spec["volumes"] is JsonArray volumes ? volumes.OfType<JsonObject>() : [];

    /// <summary>The node the stored pod is bound to (the old object of a delete or status write, else the stored one).</summary>
    private string? StoredPodNode(AdmissionAttributes attributes)
    {
        if (attributes.OldObject is { } old)
        {
            return (string?)old["spec"]?["nodeName"];
        }

        if (_pods is null || registry.Get(_pods, attributes.Namespace, attributes.Name) is not { } stored)
        {
            return null;
        }

        return stored.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("nodeName", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;
    }

    private static void AdmitNode(AdmissionAttributes attributes, string node)
    {
        var name = attributes.Name.Length > 0 ? attributes.Name : (string?)attributes.Object?["metadata"]?["name"] ?? string.Empty;
        if (name != node)
        {
            throw attributes.Forbidden($"node \"{node}\" is not allowed to modify node \"{name}\"");
        }

        if (attributes.Operation == AdmissionOperation.Create)
        {
            var forbidden = Labels(attributes.Object).Keys.Where(IsRestricted).Order(StringComparer.Ordinal).ToList();
            if (forbidden.Count > 0)
            {
                throw attributes.Forbidden($"node \"{node}\" is not allowed to set the following labels: {string.Join(", ", forbidden)}");
            }
        }
        else if (attributes.Operation == AdmissionOperation.Update && attributes.OldObject is { } old)
        {
            var before = Labels(old);
            var after = Labels(attributes.Object);
            var modified = before.Keys.Union(after.Keys)
                .Where(k => !before.TryGetValue(k, out var a) || !after.TryGetValue(k, out var b) || a != b)
                .Where(IsRestricted)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (modified.Count > 0)
            {
                throw attributes.Forbidden($"node \"{node}\" is not allowed to modify labels: {string.Join(", ", modified)}");
            }

            if (!JsonNode.DeepEquals(old["spec"]?["taints"], attributes.Object?["spec"]?["taints"]))
            {
                throw attributes.Forbidden($"node \"{node}\" is not allowed to modify taints");
            }
        }
    }

    private static Dictionary<string, string?> Labels(JsonObject? obj) =>
        obj?["metadata"]?["labels"] is JsonObject labels
            ? labels.ToDictionary(l => l.Key, l => l.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null, StringComparer.Ordinal)
            : new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Labels only administrators set: node-restriction.kubernetes.io/, and kubernetes.io/ or k8s.io/ beyond the kubelet's own.</summary>
    private static bool IsRestricted(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var domain = key[..slash];
        if (InDomain(domain, RestrictionLabelDomain))
        {
            return true;
        }

        if (!InDomain(domain, "kubernetes.io") && !InDomain(domain, "k8s.io"))
        {
            return false;
        }

        return !KubeletLabels.Contains(key) && !InDomain(domain, "kubelet.kubernetes.io") && !InDomain(domain, "node.kubernetes.io");
    }

    private static bool InDomain(string domain, string parent) =>
        domain == parent || domain.EndsWith("." + parent, StringComparison.Ordinal);
}
