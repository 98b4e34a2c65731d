using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Namespaces;

/// <summary>The deletion conditions of a terminating namespace, as upstream reports them.</summary>
internal static class NamespaceConditions
{
    public const string DeletionDiscoveryFailure = "NamespaceDeletionDiscoveryFailure";
    public const string DeletionGroupVersionParsingFailure = "NamespaceDeletionGroupVersionParsingFailure";
    public const string DeletionContentFailure = "NamespaceDeletionContentFailure";
    public const string ContentRemaining = "NamespaceContentRemaining";
    public const string FinalizersRemaining = "NamespaceFinalizersRemaining";

    /// <param name="remaining">Objects left per resource (resource name → count).</param>
    /// <param name="finalizers">Objects left per finalizer (finalizer → count).</param>
    /// <param name="deleteErrors">Messages of deletions that failed.</param>
    public static List<NamespaceCondition> Compute(
        IReadOnlyList<NamespaceCondition>? current,
        IReadOnlyDictionary<string, int> remaining,
        IReadOnlyDictionary<string, int> finalizers,
        IReadOnlyList<string> deleteErrors,
        DateTimeOffset now)
    {
        var desired = new List<NamespaceCondition>
        {
            New(DeletionDiscoveryFailure, "False", "ResourcesDiscovered", "All resources successfully discovered"),
            New(DeletionGroupVersionParsingFailure, "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
            deleteErrors.Count > 0
                ? New(DeletionContentFailure, "True", "ContentDeletionFailed", "Failed to delete all resource types, " + string.Join(", ", deleteErrors))
                : New(DeletionContentFailure, "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
            remaining.Count > 0
                ? New(ContentRemaining, "True", "SomeResourcesRemain", "Some resources are remaining: " + string.Join(", ", remaining.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} has {p.Value} resource instances")))
                : New(ContentRemaining, "False", "ContentRemoved", "All content successfully removed"),
            finalizers.Count > 0
                ? New(FinalizersRemaining, "True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: " + string.Join(", ", finalizers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} in {p.Value} resource instances")))
                : New(FinalizersRemaining, "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
        };

        foreach (var condition in desired)
        {
            var existing = current?.FirstOrDefault(c => c.Type == condition.Type);
            if (existing is not null && existing.Status == condition.Status && existing.Reason == condition.Reason && existing.Message == condition.Message)
            {
                condition.LastTransitionTime = existing.LastTransitionTime;
            }
            else
            {
                condition.LastTransitionTime = now;
            }
        }

        return desired;

        static NamespaceCondition New(string type, string status, string reason, string message) =>
            new() { Type = type, Status = status, Reason = reason, Message = message };
    }
}
