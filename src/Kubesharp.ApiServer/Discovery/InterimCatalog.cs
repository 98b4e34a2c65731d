using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>A small resource catalog used until the generated catalog is wired in.</summary>
public static class InterimCatalog
{
    private static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] StatusVerbs = ["get", "patch", "update"];

    public static IReadOnlyList<ApiResource> Resources { get; } =
    [
        Make("", "v1", "namespaces", "Namespace", false, ["ns"], [], ("status", StatusVerbs), ("finalize", ["update"])),
        Make("", "v1", "pods", "Pod", true, ["po"], ["all"], ("status", StatusVerbs), ("binding", ["create"])),
        Make("", "v1", "services", "Service", true, ["svc"], ["all"], ("status", StatusVerbs)),
        Make("", "v1", "configmaps", "ConfigMap", true, ["cm"], []),
        Make("", "v1", "secrets", "Secret", true, [], []),
        Make("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"], []),
        Make("", "v1", "nodes", "Node", false, ["no"], [], ("status", StatusVerbs)),
        Make("", "v1", "events", "Event", true, ["ev"], []),
        Make("", "v1", "endpoints", "Endpoints", true, ["ep"], []),
        Make("", "v1", "replicationcontrollers", "ReplicationController", true, ["rc"], ["all"], ("status", StatusVerbs), ("scale", StatusVerbs)),
        Make("apps", "v1", "deployments", "Deployment", true, ["deploy"], ["all"], ("status", StatusVerbs), ("scale", StatusVerbs)),
        Make("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], ["all"], ("status", StatusVerbs), ("scale", StatusVerbs)),
        Make("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], ["all"], ("status", StatusVerbs), ("scale", StatusVerbs)),
        Make("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], ["all"], ("status", StatusVerbs)),
        Make("batch", "v1", "jobs", "Job", true, [], ["all"], ("status", StatusVerbs)),
        Make("coordination.k8s.io", "v1", "leases", "Lease", true, [], []),
        Make("events.k8s.io", "v1", "events", "Event", true, ["ev"], []),
    ];

    private static ApiResource Make(string group, string version, string resource, string kind, bool namespaced, string[] shortNames, string[] categories, params (string Name, string[] Verbs)[] subresources) => new()
    {
        Group = group,
        Version = version,
        Resource = resource,
        Kind = kind,
        ListKind = kind + "List",
        SingularName = kind.ToLowerInvariant(),
        Namespaced = namespaced,
        Verbs = AllVerbs,
        ShortNames = shortNames,
        Categories = categories,
        Subresources = subresources.ToDictionary(s => s.Name, s => (IReadOnlyList<string>)s.Verbs),
        DefinitionName = $"io.k8s.api.{(group.Length == 0 ? "core" : group.Split('.')[0])}.{version}.{kind}",
    };
}
