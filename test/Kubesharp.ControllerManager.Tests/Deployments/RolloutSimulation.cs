using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.Deployments;
using Kubesharp.ControllerManager.Objects;

namespace Kubesharp.ControllerManager.Tests.Deployments;

/// <summary>
/// Applies Deployment reconciles to an in-memory set of ReplicaSets and stands in for the ReplicaSet controller:
/// pods appear as soon as a ReplicaSet grows and become available when told; a shrinking ReplicaSet gives up
/// unavailable pods first.
/// </summary>
internal sealed class RolloutSimulation(Deployment deployment)
{
    private int created;

    public Deployment Deployment { get; private set; } = deployment;

    public List<ReplicaSet> ReplicaSets { get; } = [];

    public List<Pod> Pods { get; } = [];

    public DateTimeOffset Now { get; set; } = Objects.Epoch.AddMinutes(1);

    public DeploymentSyncResult Reconcile()
    {
        var result = DeploymentSync.Run(Deployment, ReplicaSets, Pods, Now);
        foreach (var change in result.Changes)
        {
            var rs = ObjectCopy.Clone(change.ReplicaSet);
            switch (change.Kind)
            {
                case ReplicaSetChangeKind.Create:
                    Assert.DoesNotContain(ReplicaSets, r => r.Metadata!.Name == rs.Metadata!.Name);
                    created++;
                    rs.Metadata!.Uid = "uid-" + rs.Metadata.Name;
                    rs.Metadata.CreationTimestamp = Now.AddTicks(created);
                    rs.Metadata.Generation = 1;
                    rs.Status = new ReplicaSetStatus { Replicas = 0, AvailableReplicas = 0, ReadyReplicas = 0 };
                    ReplicaSets.Add(rs);
                    break;
                case ReplicaSetChangeKind.Update:
                    var index = ReplicaSets.FindIndex(r => r.Metadata!.Uid == rs.Metadata!.Uid);
                    Assert.True(index >= 0);
                    if (ReplicaSets[index].Spec!.Replicas != rs.Spec!.Replicas)
                    {
                        rs.Metadata!.Generation = (rs.Metadata.Generation ?? 1) + 1;
                    }

                    ReplicaSets[index] = rs;
                    break;
                case ReplicaSetChangeKind.Delete:
                    ReplicaSets.RemoveAll(r => r.Metadata!.Uid == rs.Metadata!.Uid);
                    break;
            }
        }

        if (result.Revision is { } revision)
        {
            Deployment.Metadata!.Annotations ??= [];
            Deployment.Metadata.Annotations[DeploymentAnnotations.Revision] = revision;
        }

        if (result.Status is { } status)
        {
            Deployment.Status = ObjectCopy.Clone(status);
        }

        return result;
    }

    /// <summary>The ReplicaSet controller catches up: pods exist for every replica, <paramref name="becomeAvailable"/> more are available.</summary>
    public void ReplicaSetsCatchUp(Func<ReplicaSet, int> becomeAvailable)
    {
        foreach (var rs in ReplicaSets)
        {
            var spec = rs.Spec!.Replicas ?? 0;
            rs.Status ??= new ReplicaSetStatus();
            var available = Math.Min(rs.Status.AvailableReplicas ?? 0, spec);
            available = Math.Min(spec, available + Math.Max(0, becomeAvailable(rs)));
            rs.Status.Replicas = spec;
            rs.Status.AvailableReplicas = available;
            rs.Status.ReadyReplicas = available;
            rs.Status.ObservedGeneration = rs.Metadata!.Generation;
        }
    }

    /// <summary>Scale-downs take effect at once (unavailable pods go first), before any pod becomes available.</summary>
    public void ApplyScaleDowns()
    {
        foreach (var rs in ReplicaSets)
        {
            var spec = rs.Spec!.Replicas ?? 0;
            rs.Status ??= new ReplicaSetStatus();
            if ((rs.Status.Replicas ?? 0) > spec)
            {
                rs.Status.Replicas = spec;
            }

            rs.Status.AvailableReplicas = Math.Min(rs.Status.AvailableReplicas ?? 0, spec);
            rs.Status.ReadyReplicas = rs.Status.AvailableReplicas;
        }
    }

    public void ChangeSpec(Action<DeploymentSpec> change)
    {
        change(Deployment.Spec!);
        Deployment.Metadata!.Generation = (Deployment.Metadata.Generation ?? 1) + 1;
    }

    /// <summary>Reconciles and lets the ReplicaSets catch up until nothing changes any more.</summary>
    public int RunToCompletion(int maxRounds = 200)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var result = Reconcile();
            var before = Snapshot();
            ReplicaSetsCatchUp(rs => rs.Spec!.Replicas ?? 0);
            if (result.Changes.Count == 0 && result.Status is null && result.Revision is null && before == Snapshot())
            {
                return round;
            }
        }

        throw new InvalidOperationException("rollout did not settle");
    }

    private string Snapshot() => string.Join(";", ReplicaSets.Select(r => $"{r.Metadata!.Name}:{r.Spec!.Replicas}/{r.Status?.Replicas}/{r.Status?.AvailableReplicas}"));
}
