using System.Globalization;
using Kubesharp.Api.Apps.V1;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>The annotations through which Deployments and their ReplicaSets record revisions and sizes.</summary>
internal static class DeploymentAnnotations
{
    public const string Revision = "deployment.kubernetes.io/revision";
    public const string RevisionHistory = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicas = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicas = "deployment.kubernetes.io/max-replicas";
    public const string ChangeCause = "kubernetes.io/change-cause";
    public const string LastAppliedConfiguration = "kubectl.kubernetes.io/last-applied-configuration";
    public const string DeprecatedRollbackTo = "deprecated.deployment.rollback.to";

    /// <summary>Longest revision-history value kept; the oldest entries fall off first.</summary>
    public const int MaxRevisionHistoryLength = 2000;

    private static readonly HashSet<string> NotCopied = new(StringComparer.Ordinal)
    {
        LastAppliedConfiguration, Revision, RevisionHistory, DesiredReplicas, MaxReplicas, DeprecatedRollbackTo,
    };

    public static long RevisionOf(ReplicaSet replicaSet) =>
        replicaSet.Metadata?.Annotations?.TryGetValue(Revision, out var text) == true &&
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
            ? revision
            : 0;

    public static long MaxRevision(IEnumerable<ReplicaSet> replicaSets) =>
        replicaSets.Select(RevisionOf).DefaultIfEmpty(0).Max();

    public static int? DesiredReplicasOf(ReplicaSet replicaSet) => IntAnnotation(replicaSet, DesiredReplicas);

    public static int? MaxReplicasOf(ReplicaSet replicaSet) => IntAnnotation(replicaSet, MaxReplicas);

    /// <summary>Copies the Deployment's own annotations (change-cause and user annotations) onto the ReplicaSet.</summary>
    public static bool CopyToReplicaSet(Deployment deployment, ReplicaSet replicaSet)
    {
        var changed = false;
        var meta = replicaSet.Metadata!;
        foreach (var (key, value) in deployment.Metadata?.Annotations ?? [])
        {
            if (NotCopied.Contains(key) || (meta.Annotations?.TryGetValue(key, out var existing) == true && existing == value))
            {
                continue;
            }

            meta.Annotations ??= [];
            meta.Annotations[key] = value;
            changed = true;
        }

        return changed;
    }

    /// <summary>
    /// Gives the new ReplicaSet its revision. A ReplicaSet that already had an older revision is being rolled back
    /// to, so its old revision moves into revision-history.
    /// </summary>
    public static bool SetNewReplicaSetAnnotations(Deployment deployment, ReplicaSet replicaSet, long newRevision, bool exists, int maxSurge)
    {
        var changed = CopyToReplicaSet(deployment, replicaSet);
        var meta = replicaSet.Metadata!;
        meta.Annotations ??= [];
        var hadRevision = meta.Annotations.TryGetValue(Revision, out var oldText);
        long oldRevision = 0;
        if (hadRevision && !string.IsNullOrEmpty(oldText) && !long.TryParse(oldText, NumberStyles.None, CultureInfo.InvariantCulture, out oldRevision))
        {
            return false;
        }

        if (oldRevision < newRevision)
        {
            meta.Annotations[Revision] = newRevision.ToString(CultureInfo.InvariantCulture);
            changed = true;
            if (hadRevision && !string.IsNullOrEmpty(oldText))
            {
                meta.Annotations[RevisionHistory] = AppendHistory(meta.Annotations.GetValueOrDefault(RevisionHistory), oldText);
            }
        }

        if (!exists && SetReplicasAnnotations(replicaSet, deployment.Spec?.Replicas ?? 1, (deployment.Spec?.Replicas ?? 1) + maxSurge))
        {
            changed = true;
        }

        return changed;
    }

    public static bool ReplicasAnnotationsNeedUpdate(ReplicaSet replicaSet, int desired, int max) =>
        DesiredReplicasOf(replicaSet) != desired || MaxReplicasOf(replicaSet) != max;

    public static bool SetReplicasAnnotations(ReplicaSet replicaSet, int desired, int max)
    {
        if (!ReplicasAnnotationsNeedUpdate(replicaSet, desired, max))
        {
            return false;
        }

        var meta = replicaSet.Metadata!;
        meta.Annotations ??= [];
        meta.Annotations[DesiredReplicas] = desired.ToString(CultureInfo.InvariantCulture);
        meta.Annotations[MaxReplicas] = max.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    private static string AppendHistory(string? history, string oldRevision)
    {
        if (string.IsNullOrEmpty(history))
        {
            return oldRevision;
        }

        var entries = history.Split(',').ToList();
        var total = history.Length + oldRevision.Length + 1;
        var start = 0;
        while (total > MaxRevisionHistoryLength && start < entries.Count)
        {
            total -= entries[start].Length + 1;
            start++;
        }

        return string.Join(',', entries.Skip(start).Append(oldRevision));
    }

    private static int? IntAnnotation(ReplicaSet replicaSet, string key) =>
        replicaSet.Metadata?.Annotations?.TryGetValue(key, out var text) == true &&
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
}
