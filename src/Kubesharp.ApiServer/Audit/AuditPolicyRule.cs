namespace Kubesharp.ApiServer.Audit;

/// <summary>One rule of an audit Policy; every list left empty matches anything.</summary>
internal sealed record AuditPolicyRule(
    AuditLevel Level,
    IReadOnlyList<string> Users,
    IReadOnlyList<string> UserGroups,
    IReadOnlyList<string> Verbs,
    IReadOnlyList<AuditGroupResources> Resources,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> NonResourceUrls,
    IReadOnlySet<AuditStage>? OmitStages,
    bool? OmitManagedFields);

/// <summary>resources[] of a rule: a group, its resources ("pods", "pods/log", "*/scale", "pods/*"), and names.</summary>
internal sealed record AuditGroupResources(string Group, IReadOnlyList<string> Resources, IReadOnlyList<string> ResourceNames);
