using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Discovery;

/// <summary>
/// A REST resource the API server serves: what discovery publishes and what the registry needs to route,
/// store and validate it.
/// </summary>
public sealed record ApiResource
{
    /// <summary>API group; empty for the core ("legacy") group.</summary>
    public required string Group { get; init; }

    public required string Version { get; init; }

    /// <summary>Plural resource name as used in URLs (pods, deployments).</summary>
    public required string Resource { get; init; }

    public required string Kind { get; init; }

    public required string ListKind { get; init; }

    public required string SingularName { get; init; }

    public required bool Namespaced { get; init; }

    /// <summary>Verbs allowed on the main resource (get, list, watch, create, update, patch, delete, deletecollection).</summary>
    public required IReadOnlyList<string> Verbs { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Subresources with their verbs (status → get, patch, update; scale → …; binding → create).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Subresources { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The kind each subresource reads and writes, as the spec gives it (pods/status → v1 Pod,
    /// deployments/scale → autoscaling/v1 Scale, pods/eviction → policy/v1 Eviction, pods/exec → v1 PodExecOptions).
    /// </summary>
    public IReadOnlyDictionary<string, GroupVersionKind> SubresourceKinds { get; init; } = new Dictionary<string, GroupVersionKind>();

    /// <summary>Definition name of the kind's schema (io.k8s.api.core.v1.Pod).</summary>
    public required string DefinitionName { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The resource's name qualified by group (deployments.apps).</summary>
    public string GroupResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";
}
