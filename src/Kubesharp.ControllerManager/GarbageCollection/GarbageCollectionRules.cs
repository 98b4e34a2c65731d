using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>
/// The garbage collector's decisions, as upstream makes them: an object with at least one live owner stays
/// (references to vanished owners are dropped); an object whose owners are all gone is deleted; an object whose
/// owner is deleted in the foreground is deleted too, itself in the foreground when it has dependents.
/// </summary>
internal static class GarbageCollectionRules
{
    public const string OrphanFinalizer = "orphan";
    public const string ForegroundFinalizer = "foregroundDeletion";
    public const string Background = "Background";
    public const string Foreground = "Foreground";
    public const string Orphan = "Orphan";

    public static bool IsDeletingDependents(ObjectMeta meta) =>
        meta.DeletionTimestamp is not null && meta.Finalizers?.Contains(ForegroundFinalizer) == true;

    public static bool IsOrphaning(ObjectMeta meta) =>
        meta.DeletionTimestamp is not null && meta.Finalizers?.Contains(OrphanFinalizer) == true;

    /// <param name="owners">Each owner reference with what was found for it.</param>
    /// <param name="hasDependents">Whether other objects name this one as owner.</param>
    /// <param name="dependentDeletingDependents">Whether one of those is itself waiting for its dependents.</param>
    public static DependentDecision ForDependent(ObjectMeta item, IReadOnlyList<(OwnerReference Reference, OwnerState State)> owners, bool hasDependents, bool dependentDeletingDependents)
    {
        if (owners.Count == 0 || (item.DeletionTimestamp is not null && !IsDeletingDependents(item)))
        {
            return DependentDecision.None;
        }

        var orphaned = owners.Where(o => o.State == OwnerState.Orphaned).Select(o => o.Reference.Uid!).ToList();
        if (orphaned.Count > 0)
        {
            // The owner's deletion orphaned its dependents: drop the reference first, then judge the rest.
            return new DependentDecision(orphaned, [], null);
        }

        var solid = owners.Where(o => o.State == OwnerState.Solid).ToList();
        var dangling = owners.Where(o => o.State == OwnerState.Dangling).Select(o => o.Reference.Uid!).ToList();
        var waiting = owners.Where(o => o.State == OwnerState.WaitingForDependentsDeletion).ToList();
        var blockingWaiting = waiting.Where(o => o.Reference.BlockOwnerDeletion == true).Select(o => o.Reference.Uid!).ToList();
        if (solid.Count > 0)
        {
            // A live owner keeps the object; a foreground-deleting owner must not wait on it.
            return dangling.Count == 0 && blockingWaiting.Count == 0 ? DependentDecision.None : new DependentDecision(dangling, blockingWaiting, null);
        }

        if (item.DeletionTimestamp is not null)
        {
            // Already deleting its own dependents in the foreground: nothing more to do here.
            return DependentDecision.None;
        }

        if (waiting.Count > 0 && hasDependents)
        {
            // Cycles of foreground deletions would wait on each other forever; break them by unblocking.
            return dependentDeletingDependents
                ? new DependentDecision([], blockingWaiting, null)
                : DependentDecision.Delete(Foreground);
        }

        var policy = item.Finalizers?.Contains(OrphanFinalizer) == true ? Orphan
            : item.Finalizers?.Contains(ForegroundFinalizer) == true ? Foreground
            : Background;
        return DependentDecision.Delete(policy);
    }

    /// <summary>The owner references left after dropping and unblocking the given owners.</summary>
    public static List<OwnerReference> Apply(IEnumerable<OwnerReference> references, DependentDecision decision) =>
        references
            .Where(r => !decision.RemoveOwners.Contains(r.Uid!))
            .Select(r => decision.UnblockOwners.Contains(r.Uid!) ? r with { BlockOwnerDeletion = false } : r)
            .ToList();

    /// <summary>Whether a dependent holds back the foreground deletion of the owner with <paramref name="ownerUid"/>.</summary>
    public static bool Blocks(ObjectMeta dependent, string ownerUid) =>
        dependent.OwnerReferences?.Any(r => r.Uid == ownerUid && r.BlockOwnerDeletion == true) == true;
}
