using System.Text.Json;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Authorizes kubelets (user system:node:NAME in group system:nodes) by what is bound to their node, as upstream's
/// node authorizer does: a node reads only the Secrets, ConfigMaps and PersistentVolumeClaims its pods use, writes
/// only its own Node and Lease and the status of its own pods; the rest of what a kubelet needs comes from the
/// system:node rules. Requests of other users get no opinion.
/// </summary>
internal sealed class NodeAuthorizer
{
    private const string NodeLeaseNamespace = "kube-node-lease";

    private readonly ResourceRegistry _registry;
    private readonly ApiResource? _pods;
    private readonly IReadOnlyList<PolicyRuleMatcher> _nodeRules = [.. BootstrapPolicy.NodeRules.Select(r => PolicyRuleMatcher.ParseRules(new System.Text.Json.Nodes.JsonObject { ["rules"] = new System.Text.Json.Nodes.JsonArray(r) })[0])];

    public NodeAuthorizer(ResourceRegistry registry)
    {
        _registry = registry;
        _pods = registry.FindByGroupResource("pods");
    }

    /// <summary>The node a user is the kubelet of, or null.</summary>
    public static string? NodeName(UserInfo user) =>
        user.Name.StartsWith(BootstrapPolicy.NodeUserPrefix, StringComparison.Ordinal) && user.Name.Length > BootstrapPolicy.NodeUserPrefix.Length && user.Groups.Contains(BootstrapPolicy.NodesGroup)
            ? user.Name[BootstrapPolicy.NodeUserPrefix.Length..]
            : null;

    public AuthorizationDecision Authorize(UserInfo user, RequestInfo request)
    {
        if (NodeName(user) is not { } node)
        {
            return AuthorizationDecision.NoOpinion();
        }

        if (!request.IsResourceRequest)
        {
            return AuthorizationDecision.NoOpinion();
        }

        var core = request.ApiGroup.Length == 0;
        switch (request.Resource)
        {
            case "secrets" or "configmaps" or "persistentvolumeclaims" when core && request.Subresource.Length == 0:
                return request.Verb == "get" && PodOnNodeUses(node, request.Namespace, request.Resource, request.Name)
                    ? AuthorizationDecision.Allow()
                    : AuthorizationDecision.NoOpinion($"no relationship found between node '{node}' and this object");
            case "leases" when request.ApiGroup == "coordination.k8s.io":
                return request.Namespace == NodeLeaseNamespace && (request.Name == node || (request.Verb == "create" && request.Name.Length == 0)) && RulesAllow(request)
                    ? AuthorizationDecision.Allow()
                    : AuthorizationDecision.NoOpinion($"can only access node lease with the same name as the requesting node");
            case "nodes" when core && request.Verb is not ("get" or "list" or "watch" or "create"):
                return request.Name == node && RulesAllow(request)
                    ? AuthorizationDecision.Allow()
                    : AuthorizationDecision.NoOpinion($"node '{node}' cannot modify node '{request.Name}'");
            case "pods" when core && (request.Subresource is "status" or "eviction" || request.Verb == "delete"):
                return PodIsOnNodeOrGone(node, request.Namespace, request.Name) && RulesAllow(request)
                    ? AuthorizationDecision.Allow()
                    : AuthorizationDecision.NoOpinion($"node '{node}' can only change pods bound to it");
        }

        return RulesAllow(request) ? AuthorizationDecision.Allow() : AuthorizationDecision.NoOpinion();
    }

    private bool RulesAllow(RequestInfo request)
    {
        foreach (var rule in _nodeRules)
        {
            if (rule.Allows(request))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The pod is bound to the node, or does not exist: a pod that is gone gets upstream's 404 from the registry rather
    /// than a 403, so a kubelet whose pod was deleted by someone else sees it gone instead of retrying.
    /// </summary>
    private bool PodIsOnNodeOrGone(string node, string @namespace, string name) =>
        _pods is not null && (_registry.Get(_pods, @namespace, name) is not { } pod || NodeOf(pod.Root) == node);

    private bool PodOnNodeUses(string node, string @namespace, string resource, string name)
    {
        if (_pods is null || name.Length == 0)
        {
            return false;
        }

        foreach (var pod in _registry.Cache.For(_pods).InNamespace(@namespace).Values)
        {
            if (NodeOf(pod.Root) == node && Uses(pod.Root, resource, name))
            {
                return true;
            }
        }

        return false;
    }

    private static string? NodeOf(JsonElement pod) =>
        pod.TryGetProperty("spec", out var spec) && spec.TryGetProperty("nodeName", out var nodeName) ? nodeName.GetString() : null;

    /// <summary>Whether the pod names the object in a volume, an environment reference or its image pull secrets.</summary>
    private static bool Uses(JsonElement pod, string resource, string name)
    {
        if (!pod.TryGetProperty("spec", out var spec))
        {
            return false;
        }

        if (resource == "secrets" && Items(spec, "imagePullSecrets").Any(s => Text(s, "name") == name))
        {
            return true;
        }

        foreach (var volume in Items(spec, "volumes"))
        {
            var used = resource switch
            {
                "secrets" => Text(Child(volume, "secret"), "secretName") == name ||
                    Items(Child(volume, "projected"), "sources").Any(s => Text(Child(s, "secret"), "name") == name),
                "configmaps" => Text(Child(volume, "configMap"), "name") == name ||
                    Items(Child(volume, "projected"), "sources").Any(s => Text(Child(s, "configMap"), "name") == name),
                _ => Text(Child(volume, "persistentVolumeClaim"), "claimName") == name,
            };
            if (used)
            {
                return true;
            }
        }

        if (resource == "persistentvolumeclaims")
        {
            return false;
        }

        var (keyRef, sourceRef) = resource == "secrets" ? ("secretKeyRef", "secretRef") : ("configMapKeyRef", "configMapRef");
        foreach (var list in new[] { "containers", "initContainers", "ephemeralContainers" })
        {
            foreach (var container in Items(spec, list))
            {
                if (Items(container, "env").Any(e => Text(Child(Child(e, "valueFrom"), keyRef), "name") == name) ||
                    Items(container, "envFrom").Any(e => Text(Child(e, sourceRef), "name") == name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child) ? child : default;

    private static string? Text(JsonElement element, string name) =>
        Child(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static IEnumerable<JsonElement> Items(JsonElement element, string name) =>
        Child(element, name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];
}
