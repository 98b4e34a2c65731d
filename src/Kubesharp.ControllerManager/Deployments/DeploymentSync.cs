using System.Globalization;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Selection;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>
/// One reconcile of a Deployment over a consistent view of its ReplicaSets and pods: decides which ReplicaSet to
/// create, scale or delete and what the Deployment's status becomes. Pure; the controller performs the writes.
/// </summary>
internal sealed class DeploymentSync
{
    private readonly Deployment deployment;
    private readonly DateTimeOffset now;
    private readonly List<ReplicaSet> replicaSets;
    private readonly IReadOnlyList<Pod> pods;
    private readonly DeploymentSyncResult result = new();
    private readonly DeploymentStatus status;
    private readonly string name;

    private DeploymentSync(Deployment deployment, IReadOnlyList<ReplicaSet> replicaSets, IReadOnlyList<Pod> pods, DateTimeOffset now)
    {
        this.deployment = deployment;
        this.now = now;
        this.pods = pods;
        this.replicaSets = replicaSets.Select(ObjectCopy.Clone).ToList();
        status = deployment.Status is { } s ? ObjectCopy.Clone(s) : new DeploymentStatus();
        name = deployment.Metadata?.Name ?? string.Empty;
    }

    /// <param name="replicaSets">The ReplicaSets the Deployment controls (already claimed).</param>
    /// <param name="pods">The pods of those ReplicaSets (only read by the Recreate strategy).</param>
    public static DeploymentSyncResult Run(Deployment deployment, IReadOnlyList<ReplicaSet> replicaSets, IReadOnlyList<Pod> pods, DateTimeOffset now) =>
        new DeploymentSync(deployment, replicaSets, pods, now).Run();

    /// <summary>The ReplicaSet whose template equals the Deployment's (ignoring the hash label); the oldest wins.</summary>
    public static ReplicaSet? FindNewReplicaSet(Deployment deployment, IEnumerable<ReplicaSet> replicaSets) =>
        replicaSets.OrderBy(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ThenBy(rs => rs.Metadata?.Name, StringComparer.Ordinal)
            .FirstOrDefault(rs => EqualIgnoreHash(rs.Spec?.Template, deployment.Spec?.Template));

    public static bool EqualIgnoreHash(PodTemplateSpec? left, PodTemplateSpec? right)
    {
        if (left is null || right is null)
        {
            return left is null && right is null;
        }

        var a = ObjectCopy.Clone(left);
        var b = ObjectCopy.Clone(right);
        a.Metadata?.Labels?.Remove(PodTemplateHash.Label);
        b.Metadata?.Labels?.Remove(PodTemplateHash.Label);
        return ObjectCopy.SemanticEquals(a, b);
    }

    private DeploymentSyncResult Run()
    {
        if (deployment.Metadata?.DeletionTimestamp is not null)
        {
            var (deletingNew, deletingOld) = GetAllReplicaSetsAndSyncRevision(createIfMissing: false);
            SyncDeploymentStatus(deletingNew, deletingOld);
            return Finish();
        }

        if (deployment.Spec?.Selector is null || LabelSelectorEvaluator.IsEmpty(deployment.Spec.Selector))
        {
            result.Events.Add(ControllerEvent.Warning("SelectorOverride", "This deployment is selecting all pods. A non-empty selector is required."));
            if ((status.ObservedGeneration ?? 0) < (deployment.Metadata?.Generation ?? 0))
            {
                status.ObservedGeneration = deployment.Metadata?.Generation;
            }

            return Finish();
        }

        CheckPausedConditions();
        if (deployment.Spec.Paused == true || IsScalingEvent())
        {
            Sync();
            return Finish();
        }

        if (RollingUpdateBudget.IsRollingUpdate(deployment))
        {
            RolloutRolling();
        }
        else
        {
            RolloutRecreate();
        }

        return Finish();
    }

    private DeploymentSyncResult Finish()
    {
        if (!ObjectCopy.SemanticEquals(deployment.Status ?? new DeploymentStatus(), status))
        {
            result.Status = status;
        }

        return result;
    }

    private int Replicas => RollingUpdateBudget.Replicas(deployment);

    private void CheckPausedConditions()
    {
        if (!DeploymentConditions.HasProgressDeadline(deployment))
        {
            return;
        }

        var condition = DeploymentConditions.Get(status, DeploymentConditions.Progressing);
        if (condition?.Reason == DeploymentConditions.ProgressDeadlineExceeded)
        {
            return;
        }

        var pausedConditionExists = condition?.Reason == DeploymentConditions.DeploymentPaused;
        if (deployment.Spec?.Paused == true && !pausedConditionExists)
        {
            DeploymentConditions.Set(status, DeploymentConditions.New(DeploymentConditions.Progressing, "Unknown", DeploymentConditions.DeploymentPaused, "Deployment is paused", now));
        }
        else if (deployment.Spec?.Paused != true && pausedConditionExists)
        {
            DeploymentConditions.Set(status, DeploymentConditions.New(DeploymentConditions.Progressing, "Unknown", DeploymentConditions.DeploymentResumed, "Deployment is resumed", now));
        }
    }

    /// <summary>The replica count changed while ReplicaSets still carry the old desired size.</summary>
    private bool IsScalingEvent()
    {
        if (replicaSets.Count == 0)
        {
            return false;
        }

        foreach (var rs in replicaSets.Where(rs => (rs.Spec?.Replicas ?? 0) > 0))
        {
            if (DeploymentAnnotations.DesiredReplicasOf(rs) is { } desired && desired != Replicas)
            {
                return true;
            }
        }

        return false;
    }

    private (ReplicaSet? New, List<ReplicaSet> Old) GetAllReplicaSetsAndSyncRevision(bool createIfMissing)
    {
        var existingNew = FindNewReplicaSet(deployment, replicaSets);
        var old = replicaSets.Where(rs => !ReferenceEquals(rs, existingNew)).ToList();
        var newRevision = DeploymentAnnotations.MaxRevision(old) + 1;
        var maxSurge = RollingUpdateBudget.MaxSurge(deployment);
        if (existingNew is not null)
        {
            var annotationsChanged = DeploymentAnnotations.SetNewReplicaSetAnnotations(deployment, existingNew, newRevision, exists: true, maxSurge);
            var minReadyChanged = (existingNew.Spec!.MinReadySeconds ?? 0) != (deployment.Spec?.MinReadySeconds ?? 0);
            if (annotationsChanged || minReadyChanged)
            {
                existingNew.Spec.MinReadySeconds = deployment.Spec?.MinReadySeconds;
                Record(ReplicaSetChangeKind.Update, existingNew);
            }

            SetDeploymentRevision(existingNew.Metadata?.Annotations?.GetValueOrDefault(DeploymentAnnotations.Revision));
            if (DeploymentConditions.HasProgressDeadline(deployment) && DeploymentConditions.Get(status, DeploymentConditions.Progressing) is null)
            {
                DeploymentConditions.Set(status, DeploymentConditions.New(
                    DeploymentConditions.Progressing, "True", DeploymentConditions.FoundNewReplicaSet, $"Found new replica set \"{existingNew.Metadata?.Name}\"", now));
            }

            return (existingNew, old);
        }

        if (!createIfMissing)
        {
            return (null, old);
        }

        var template = ObjectCopy.Clone(deployment.Spec!.Template!);
        var hash = PodTemplateHash.Compute(template, status.CollisionCount);
        template.Metadata ??= new ObjectMeta();
        template.Metadata.Labels ??= [];
        template.Metadata.Labels[PodTemplateHash.Label] = hash;
        var selector = ObjectCopy.Clone(deployment.Spec.Selector!);
        selector.MatchLabels ??= [];
        selector.MatchLabels[PodTemplateHash.Label] = hash;
        var meta = deployment.Metadata!;
        var created = new ReplicaSet
        {
            ApiVersion = ReplicaSet.KubeApiVersion,
            Kind = ReplicaSet.KubeKind,
            Metadata = new ObjectMeta
            {
                Name = $"{meta.Name}-{hash}",
                Namespace = meta.Namespace,
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
                OwnerReferences = [ControllerRef.New(Deployment.KubeApiVersion, Deployment.KubeKind, meta)],
            },
            Spec = new ReplicaSetSpec
            {
                Replicas = 0,
                MinReadySeconds = deployment.Spec.MinReadySeconds,
                Selector = selector,
                Template = template,
            },
        };
        var newReplicas = RollingUpdateBudget.NewReplicaSetReplicas(deployment, old.Append(created), created);
        created.Spec.Replicas = newReplicas;
        DeploymentAnnotations.SetNewReplicaSetAnnotations(deployment, created, newRevision, exists: false, maxSurge);
        Record(ReplicaSetChangeKind.Create, created);
        replicaSets.Add(created);
        if (newReplicas > 0)
        {
            result.Events.Add(ControllerEvent.Normal("ScalingReplicaSet", $"Scaled up replica set {created.Metadata.Name} from 0 to {newReplicas}"));
        }

        SetDeploymentRevision(newRevision.ToString(CultureInfo.InvariantCulture));
        if (DeploymentConditions.HasProgressDeadline(deployment))
        {
            DeploymentConditions.Set(status, DeploymentConditions.New(
                DeploymentConditions.Progressing, "True", DeploymentConditions.NewReplicaSetCreated, $"Created new replica set \"{created.Metadata.Name}\"", now));
        }

        return (created, old);
    }

    private void SetDeploymentRevision(string? revision)
    {
        if (revision is null)
        {
            return;
        }

        var current = result.Revision ?? deployment.Metadata?.Annotations?.GetValueOrDefault(DeploymentAnnotations.Revision);
        if (current != revision)
        {
            result.Revision = revision;
        }
    }

    private void Record(ReplicaSetChangeKind kind, ReplicaSet replicaSet)
    {
        if (kind == ReplicaSetChangeKind.Update && result.Changes.Any(c => ReferenceEquals(c.ReplicaSet, replicaSet)))
        {
            return;
        }

        result.Changes.Add(new ReplicaSetChange(kind, replicaSet));
    }

    /// <summary>Scaling (and history cleanup while paused) without rolling out a new template.</summary>
    private void Sync()
    {
        var (newRs, old) = GetAllReplicaSetsAndSyncRevision(createIfMissing: false);
        Scale(newRs, old);
        if (deployment.Spec?.Paused == true)
        {
            CleanupDeployment(old);
        }

        SyncDeploymentStatus(newRs, old);
    }

    private void Scale(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        var active = ActiveOrLatest(newRs, old);
        if (active is not null)
        {
            if ((active.Spec?.Replicas ?? 0) != Replicas)
            {
                ScaleReplicaSetAndRecordEvent(active, Replicas);
            }

            return;
        }

        if (IsSaturated(newRs))
        {
            foreach (var rs in old.Where(rs => (rs.Spec?.Replicas ?? 0) > 0))
            {
                ScaleReplicaSetAndRecordEvent(rs, 0);
            }

            return;
        }

        if (!RollingUpdateBudget.IsRollingUpdate(deployment))
        {
            return;
        }

        var all = old.Append(newRs).OfType<ReplicaSet>().Where(rs => (rs.Spec?.Replicas ?? 0) > 0).ToList();
        var allReplicas = all.Sum(rs => rs.Spec?.Replicas ?? 0);
        var allowed = Replicas > 0 ? Replicas + RollingUpdateBudget.MaxSurge(deployment) : 0;
        var toAdd = allowed - allReplicas;
        var ordered = toAdd > 0
            ? all.OrderByDescending(rs => rs.Spec?.Replicas ?? 0).ThenByDescending(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ToList()
            : all.OrderByDescending(rs => rs.Spec?.Replicas ?? 0).ThenBy(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ToList();
        var added = 0;
        var sizes = new Dictionary<ReplicaSet, int>(ReferenceEqualityComparer.Instance);
        foreach (var rs in ordered)
        {
            var proportion = toAdd != 0 ? Proportion(rs, toAdd, added) : 0;
            sizes[rs] = (rs.Spec?.Replicas ?? 0) + proportion;
            added += proportion;
        }

        for (var i = 0; i < ordered.Count; i++)
        {
            var rs = ordered[i];
            var size = sizes[rs];
            if (i == 0)
            {
                // Rounding leftovers go to the largest ReplicaSet.
                size = Math.Max(size + toAdd - added, 0);
            }

            ScaleReplicaSet(rs, size);
        }
    }

    private int Proportion(ReplicaSet rs, int toAdd, int added)
    {
        if (Replicas == 0)
        {
            return -(rs.Spec?.Replicas ?? 0);
        }

        var deploymentReplicas = Replicas + RollingUpdateBudget.MaxSurge(deployment);
        var annotated = DeploymentAnnotations.MaxReplicasOf(rs) ?? deployment.Status?.Replicas ?? 0;
        var fraction = annotated == 0
            ? 0
            : (int)Math.Round((double)(rs.Spec?.Replicas ?? 0) * deploymentReplicas / annotated, MidpointRounding.AwayFromZero) - (rs.Spec?.Replicas ?? 0);
        var allowed = toAdd - added;
        return toAdd > 0 ? Math.Min(fraction, allowed) : Math.Max(fraction, allowed);
    }

    private static ReplicaSet? ActiveOrLatest(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        if (newRs is null && old.Count == 0)
        {
            return null;
        }

        var active = old.Append(newRs).OfType<ReplicaSet>().Where(rs => (rs.Spec?.Replicas ?? 0) > 0).ToList();
        return active.Count switch
        {
            0 => newRs ?? old.OrderByDescending(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).First(),
            1 => active[0],
            _ => null,
        };
    }

    private bool IsSaturated(ReplicaSet? newRs) =>
        newRs is not null &&
        (newRs.Spec?.Replicas ?? 0) == Replicas &&
        DeploymentAnnotations.DesiredReplicasOf(newRs) == Replicas &&
        (newRs.Status?.AvailableReplicas ?? 0) == Replicas;

    private bool ScaleReplicaSetAndRecordEvent(ReplicaSet rs, int newScale) =>
        (rs.Spec?.Replicas ?? 0) != newScale && ScaleReplicaSet(rs, newScale);

    private bool ScaleReplicaSet(ReplicaSet rs, int newScale)
    {
        var oldScale = rs.Spec?.Replicas ?? 0;
        var sizeChanged = oldScale != newScale;
        var maxReplicas = Replicas + RollingUpdateBudget.MaxSurge(deployment);
        var annotationsChanged = DeploymentAnnotations.ReplicasAnnotationsNeedUpdate(rs, Replicas, maxReplicas);
        if (!sizeChanged && !annotationsChanged)
        {
            return false;
        }

        rs.Spec ??= new ReplicaSetSpec();
        rs.Spec.Replicas = newScale;
        DeploymentAnnotations.SetReplicasAnnotations(rs, Replicas, maxReplicas);
        Record(ReplicaSetChangeKind.Update, rs);
        if (sizeChanged)
        {
            var direction = oldScale < newScale ? "up" : "down";
            result.Events.Add(ControllerEvent.Normal("ScalingReplicaSet", $"Scaled {direction} replica set {rs.Metadata?.Name} from {oldScale} to {newScale}"));
        }

        return sizeChanged;
    }

    private void RolloutRolling()
    {
        var (newRs, old) = GetAllReplicaSetsAndSyncRevision(createIfMissing: true);
        if (ReconcileNewReplicaSet(newRs!, old))
        {
            SyncRolloutStatus(newRs, old);
            return;
        }

        if (ReconcileOldReplicaSets(newRs!, old))
        {
            SyncRolloutStatus(newRs, old);
            return;
        }

        if (DeploymentConditions.IsComplete(deployment, deployment.Status ?? new DeploymentStatus()))
        {
            CleanupDeployment(old);
        }

        SyncRolloutStatus(newRs, old);
    }

    private bool ReconcileNewReplicaSet(ReplicaSet newRs, List<ReplicaSet> old)
    {
        var current = newRs.Spec?.Replicas ?? 0;
        if (current == Replicas)
        {
            return false;
        }

        if (current > Replicas)
        {
            return ScaleReplicaSetAndRecordEvent(newRs, Replicas);
        }

        var target = RollingUpdateBudget.NewReplicaSetReplicas(deployment, old.Append(newRs), newRs);
        return ScaleReplicaSetAndRecordEvent(newRs, target);
    }

    private bool ReconcileOldReplicaSets(ReplicaSet newRs, List<ReplicaSet> old)
    {
        var oldPods = old.Sum(rs => rs.Spec?.Replicas ?? 0);
        if (oldPods == 0)
        {
            return false;
        }

        var allPods = oldPods + (newRs.Spec?.Replicas ?? 0);
        var minAvailable = Replicas - RollingUpdateBudget.MaxUnavailable(deployment);
        var newUnavailable = (newRs.Spec?.Replicas ?? 0) - (newRs.Status?.AvailableReplicas ?? 0);
        var maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0)
        {
            return false;
        }

        var cleaned = CleanupUnhealthyReplicas(old, maxScaledDown);
        var scaledDown = ScaleDownOldReplicaSetsForRollingUpdate(newRs, old);
        return cleaned + scaledDown > 0;
    }

    /// <summary>Old pods that are not available are removed first: they cost no availability.</summary>
    private int CleanupUnhealthyReplicas(List<ReplicaSet> old, int maxCleanup)
    {
        var total = 0;
        foreach (var rs in ByCreation(old))
        {
            if (total >= maxCleanup)
            {
                break;
            }

            var replicas = rs.Spec?.Replicas ?? 0;
            if (replicas == 0)
            {
                continue;
            }

            var unhealthy = replicas - (rs.Status?.AvailableReplicas ?? 0);
            if (unhealthy <= 0)
            {
                continue;
            }

            var count = Math.Min(maxCleanup - total, unhealthy);
            ScaleReplicaSetAndRecordEvent(rs, replicas - count);
            total += count;
        }

        return total;
    }

    private int ScaleDownOldReplicaSetsForRollingUpdate(ReplicaSet newRs, List<ReplicaSet> old)
    {
        var minAvailable = Replicas - RollingUpdateBudget.MaxUnavailable(deployment);
        var available = old.Append(newRs).Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        if (available <= minAvailable)
        {
            return 0;
        }

        var totalToScaleDown = available - minAvailable;
        var total = 0;
        foreach (var rs in ByCreation(old))
        {
            if (total >= totalToScaleDown)
            {
                break;
            }

            var replicas = rs.Spec?.Replicas ?? 0;
            if (replicas == 0)
            {
                continue;
            }

            var count = Math.Min(replicas, totalToScaleDown - total);
            ScaleReplicaSetAndRecordEvent(rs, replicas - count);
            total += count;
        }

        return total;
    }

    private void RolloutRecreate()
    {
        var (newRs, old) = GetAllReplicaSetsAndSyncRevision(createIfMissing: false);
        var scaledDown = false;
        foreach (var rs in old.Where(rs => (rs.Spec?.Replicas ?? 0) > 0))
        {
            scaledDown |= ScaleReplicaSetAndRecordEvent(rs, 0);
        }

        if (scaledDown || OldPodsRunning(newRs, old))
        {
            SyncRolloutStatus(newRs, old);
            return;
        }

        if (newRs is null)
        {
            (newRs, old) = GetAllReplicaSetsAndSyncRevision(createIfMissing: true);
        }

        ScaleReplicaSetAndRecordEvent(newRs!, Replicas);
        if (DeploymentConditions.IsComplete(deployment, deployment.Status ?? new DeploymentStatus()))
        {
            CleanupDeployment(old);
        }

        SyncRolloutStatus(newRs, old);
    }

    /// <summary>Recreate waits until no pod of an old ReplicaSet is still running (or might be).</summary>
    private bool OldPodsRunning(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        if (old.Sum(rs => rs.Status?.Replicas ?? 0) > 0)
        {
            return true;
        }

        var oldUids = old.Select(rs => rs.Metadata?.Uid).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var owner = ControllerRef.Of(pod.Metadata)?.Uid;
            if (owner is null || !oldUids.Contains(owner) || (newRs?.Metadata?.Uid is { } newUid && owner == newUid))
            {
                continue;
            }

            if (pod.Status?.Phase is "Failed" or "Succeeded")
            {
                continue;
            }

            return true;
        }

        return false;
    }

    /// <summary>Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit.</summary>
    private void CleanupDeployment(List<ReplicaSet> old)
    {
        if (deployment.Spec?.RevisionHistoryLimit is not { } limit)
        {
            return;
        }

        var cleanable = old.Where(rs => rs.Metadata?.DeletionTimestamp is null && result.Changes.All(c => !ReferenceEquals(c.ReplicaSet, rs) || c.Kind != ReplicaSetChangeKind.Delete)).ToList();
        var diff = cleanable.Count - limit;
        if (diff <= 0)
        {
            return;
        }

        var ordered = cleanable.OrderBy(DeploymentAnnotations.RevisionOf).ThenBy(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ToList();
        for (var i = 0; i < diff; i++)
        {
            var rs = ordered[i];
            if ((rs.Status?.Replicas ?? 0) != 0 || (rs.Spec?.Replicas ?? 0) != 0 ||
                (rs.Metadata?.Generation ?? 0) > (rs.Status?.ObservedGeneration ?? 0) || rs.Metadata?.DeletionTimestamp is not null)
            {
                continue;
            }

            result.Changes.Add(new ReplicaSetChange(ReplicaSetChangeKind.Delete, rs));
        }
    }

    private DeploymentStatus CalculateStatus(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        var all = old.Append(newRs).OfType<ReplicaSet>().ToList();
        var available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        var total = all.Sum(rs => rs.Spec?.Replicas ?? 0);
        var calculated = new DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata?.Generation,
            Replicas = all.Sum(rs => rs.Status?.Replicas ?? 0),
            UpdatedReplicas = newRs?.Status?.Replicas ?? 0,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(total - available, 0),
            CollisionCount = status.CollisionCount,
            Conditions = status.Conditions?.Select(c => c with { }).ToList(),
        };
        if (available >= Replicas - RollingUpdateBudget.MaxUnavailable(deployment))
        {
            DeploymentConditions.Set(calculated, DeploymentConditions.New(
                DeploymentConditions.Available, "True", DeploymentConditions.MinimumReplicasAvailable, "Deployment has minimum availability.", now));
        }
        else
        {
            DeploymentConditions.Set(calculated, DeploymentConditions.New(
                DeploymentConditions.Available, "False", DeploymentConditions.MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now));
        }

        return calculated;
    }

    private void SyncDeploymentStatus(ReplicaSet? newRs, List<ReplicaSet> old) => Apply(CalculateStatus(newRs, old));

    private void SyncRolloutStatus(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        var newStatus = CalculateStatus(newRs, old);
        if (!DeploymentConditions.HasProgressDeadline(deployment))
        {
            DeploymentConditions.Remove(newStatus, DeploymentConditions.Progressing);
        }

        var current = DeploymentConditions.Get(status, DeploymentConditions.Progressing);
        var complete = newStatus.Replicas == newStatus.UpdatedReplicas && current?.Reason == DeploymentConditions.NewReplicaSetAvailable;
        var subject = newRs is not null ? $"ReplicaSet \"{newRs.Metadata?.Name}\"" : $"Deployment \"{name}\"";
        if (DeploymentConditions.HasProgressDeadline(deployment) && !complete)
        {
            var statusView = deployment with { Status = status };
            if (DeploymentConditions.IsComplete(deployment, newStatus))
            {
                DeploymentConditions.Set(newStatus, DeploymentConditions.New(
                    DeploymentConditions.Progressing, "True", DeploymentConditions.NewReplicaSetAvailable, $"{subject} has successfully progressed.", now));
            }
            else if (DeploymentConditions.IsProgressing(statusView, newStatus))
            {
                var condition = DeploymentConditions.New(DeploymentConditions.Progressing, "True", DeploymentConditions.ReplicaSetUpdated, $"{subject} is progressing.", now);
                if (current is not null)
                {
                    if (current.Status == "True")
                    {
                        condition.LastTransitionTime = current.LastTransitionTime;
                    }

                    DeploymentConditions.Remove(newStatus, DeploymentConditions.Progressing);
                }

                DeploymentConditions.Set(newStatus, condition);
            }
            else if (DeploymentConditions.HasTimedOut(deployment, newStatus, now))
            {
                DeploymentConditions.Set(newStatus, DeploymentConditions.New(
                    DeploymentConditions.Progressing, "False", DeploymentConditions.ProgressDeadlineExceeded, $"{subject} has timed out progressing.", now));
            }
        }

        var failure = ReplicaFailure(newRs, old);
        if (failure is not null)
        {
            DeploymentConditions.Set(newStatus, failure);
        }
        else
        {
            DeploymentConditions.Remove(newStatus, DeploymentConditions.ReplicaFailure);
        }

        if (ObjectCopy.SemanticEquals(status, newStatus))
        {
            result.RequeueAfter = StuckRequeue(newStatus);
            return;
        }

        Apply(newStatus);
    }

    private DeploymentCondition? ReplicaFailure(ReplicaSet? newRs, List<ReplicaSet> old)
    {
        foreach (var rs in old.Prepend(newRs).OfType<ReplicaSet>())
        {
            var condition = rs.Status?.Conditions?.FirstOrDefault(c => c.Type == ReplicaSetStatusConditionType);
            if (condition is not null)
            {
                return DeploymentConditions.New(DeploymentConditions.ReplicaFailure, condition.Status ?? "True", condition.Reason ?? string.Empty, condition.Message ?? string.Empty, now);
            }
        }

        return null;
    }

    private const string ReplicaSetStatusConditionType = "ReplicaFailure";

    /// <summary>Without visible progress, look again when the progress deadline would pass.</summary>
    private TimeSpan? StuckRequeue(DeploymentStatus newStatus)
    {
        var current = DeploymentConditions.Get(status, DeploymentConditions.Progressing);
        if (!DeploymentConditions.HasProgressDeadline(deployment) || current is null)
        {
            return null;
        }

        if (DeploymentConditions.IsComplete(deployment, newStatus) || current.Reason == DeploymentConditions.ProgressDeadlineExceeded)
        {
            return null;
        }

        var from = current.LastUpdateTime ?? current.LastTransitionTime ?? now;
        var after = from.AddSeconds(deployment.Spec!.ProgressDeadlineSeconds!.Value) - now;
        return after < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : after + TimeSpan.FromSeconds(1);
    }

    private void Apply(DeploymentStatus newStatus)
    {
        status.ObservedGeneration = newStatus.ObservedGeneration;
        status.Replicas = newStatus.Replicas;
        status.UpdatedReplicas = newStatus.UpdatedReplicas;
        status.ReadyReplicas = newStatus.ReadyReplicas;
        status.AvailableReplicas = newStatus.AvailableReplicas;
        status.UnavailableReplicas = newStatus.UnavailableReplicas;
        status.CollisionCount = newStatus.CollisionCount;
        status.Conditions = newStatus.Conditions;
    }

    private static IEnumerable<ReplicaSet> ByCreation(IEnumerable<ReplicaSet> replicaSets) =>
        replicaSets.OrderBy(rs => rs.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ThenBy(rs => rs.Metadata?.Name, StringComparer.Ordinal).ToList();
}
