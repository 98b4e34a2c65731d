using Kubesharp.Api.Apps.V1;
using Kubesharp.ControllerManager.Deployments;

namespace Kubesharp.ControllerManager.Tests.Deployments;

public sealed class DeploymentSyncTests
{
    private static ReplicaSet Only(RolloutSimulation sim) => Assert.Single(sim.ReplicaSets);

    private static DeploymentCondition Condition(Deployment d, string type) =>
        Assert.Single(d.Status!.Conditions!, c => c.Type == type);

    [Fact]
    public void Run_NewDeployment_CreatesHashedReplicaSetWithRevisionOne()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 3));

        var result = sim.Reconcile();

        var rs = Only(sim);
        var hash = PodTemplateHash.Compute(sim.Deployment.Spec!.Template!, null);
        Assert.Equal($"web-{hash}", rs.Metadata!.Name);
        Assert.Equal(3, rs.Spec!.Replicas);
        Assert.Equal(hash, rs.Spec.Template!.Metadata!.Labels![PodTemplateHash.Label]);
        Assert.Equal(hash, rs.Spec.Selector!.MatchLabels![PodTemplateHash.Label]);
        Assert.Equal(hash, rs.Metadata.Labels![PodTemplateHash.Label]);
        Assert.Equal("1", rs.Metadata.Annotations![DeploymentAnnotations.Revision]);
        Assert.Equal("3", rs.Metadata.Annotations[DeploymentAnnotations.DesiredReplicas]);
        Assert.Equal("4", rs.Metadata.Annotations[DeploymentAnnotations.MaxReplicas]);
        var owner = Assert.Single(rs.Metadata.OwnerReferences!);
        Assert.True(owner.Controller);
        Assert.True(owner.BlockOwnerDeletion);
        Assert.Equal("Deployment", owner.Kind);
        Assert.Equal("1", result.Revision);
        Assert.Equal(DeploymentConditions.NewReplicaSetCreated, Condition(sim.Deployment, "Progressing").Reason);
        Assert.Contains(result.Events, e => e.Message == $"Scaled up replica set web-{hash} from 0 to 3");
    }

    [Fact]
    public void Run_AllReplicasAvailable_ReportsCompleteAndAvailable()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 3));

        sim.RunToCompletion();

        var status = sim.Deployment.Status!;
        Assert.Equal(3, status.Replicas);
        Assert.Equal(3, status.UpdatedReplicas);
        Assert.Equal(3, status.ReadyReplicas);
        Assert.Equal(3, status.AvailableReplicas);
        Assert.Equal(0, status.UnavailableReplicas);
        Assert.Equal(1, status.ObservedGeneration);
        var progressing = Condition(sim.Deployment, "Progressing");
        Assert.Equal(DeploymentConditions.NewReplicaSetAvailable, progressing.Reason);
        Assert.Equal($"ReplicaSet \"{Only(sim).Metadata!.Name}\" has successfully progressed.", progressing.Message);
        var available = Condition(sim.Deployment, "Available");
        Assert.Equal(("True", DeploymentConditions.MinimumReplicasAvailable), (available.Status, available.Reason));
    }

    [Fact]
    public void Run_TemplateChanged_RollsOverToNewReplicaSetWithNextRevision()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 4));
        sim.RunToCompletion();
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");

        sim.RunToCompletion();

        Assert.Equal(2, sim.ReplicaSets.Count);
        var newRs = Assert.Single(sim.ReplicaSets, r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:2");
        var oldRs = Assert.Single(sim.ReplicaSets, r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:1");
        Assert.Equal(4, newRs.Spec!.Replicas);
        Assert.Equal(0, oldRs.Spec!.Replicas);
        Assert.Equal("2", newRs.Metadata!.Annotations![DeploymentAnnotations.Revision]);
        Assert.Equal("2", sim.Deployment.Metadata!.Annotations![DeploymentAnnotations.Revision]);
        Assert.Equal(4, sim.Deployment.Status!.UpdatedReplicas);
        Assert.Equal(DeploymentConditions.NewReplicaSetAvailable, Condition(sim.Deployment, "Progressing").Reason);
    }

    [Fact]
    public void Run_TemplateRevertedToEarlierRevision_ReusesReplicaSetAndRecordsHistory()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 2));
        sim.RunToCompletion();
        var first = Only(sim).Metadata!.Name;
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");
        sim.RunToCompletion();

        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:1");
        sim.RunToCompletion();

        Assert.Equal(2, sim.ReplicaSets.Count);
        var reused = Assert.Single(sim.ReplicaSets, r => r.Metadata!.Name == first);
        Assert.Equal(2, reused.Spec!.Replicas);
        Assert.Equal("3", reused.Metadata!.Annotations![DeploymentAnnotations.Revision]);
        Assert.Equal("1", reused.Metadata.Annotations[DeploymentAnnotations.RevisionHistory]);
        Assert.Equal("3", sim.Deployment.Metadata!.Annotations![DeploymentAnnotations.Revision]);
    }

    [Fact]
    public void Run_ChangeCauseAnnotation_CopiedToNewReplicaSet()
    {
        var deployment = Objects.Deployment();
        deployment.Metadata!.Annotations = new() { [DeploymentAnnotations.ChangeCause] = "kubectl set image", [DeploymentAnnotations.LastAppliedConfiguration] = "{}" };
        var sim = new RolloutSimulation(deployment);

        sim.Reconcile();

        var annotations = Only(sim).Metadata!.Annotations!;
        Assert.Equal("kubectl set image", annotations[DeploymentAnnotations.ChangeCause]);
        Assert.False(annotations.ContainsKey(DeploymentAnnotations.LastAppliedConfiguration));
    }

    [Fact]
    public void Run_RevisionHistoryLimit_DeletesOldestScaledDownReplicaSets()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 1));
        sim.Deployment.Spec!.RevisionHistoryLimit = 1;
        sim.RunToCompletion();
        for (var i = 2; i <= 4; i++)
        {
            sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = $"nginx:{i}");
            sim.RunToCompletion();
        }

        Assert.Equal(2, sim.ReplicaSets.Count);
        Assert.Equal(["3", "4"], sim.ReplicaSets.Select(r => r.Metadata!.Annotations![DeploymentAnnotations.Revision]).Order());
    }

    [Fact]
    public void Run_Recreate_ScalesOldToZeroBeforeCreatingNew()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 3, strategy: "Recreate"));
        sim.RunToCompletion();
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");

        sim.Reconcile();

        var old = Only(sim);
        Assert.Equal(0, old.Spec!.Replicas);

        // Old pods are still reported; no new ReplicaSet yet.
        sim.Reconcile();
        Assert.Single(sim.ReplicaSets);

        sim.ApplyScaleDowns();
        sim.Reconcile();
        Assert.Equal(2, sim.ReplicaSets.Count);
        Assert.Equal(3, sim.ReplicaSets.Single(r => r.Metadata!.Name != old.Metadata!.Name).Spec!.Replicas);
    }

    [Fact]
    public void Run_Recreate_WaitsForOldPodsStillRunning()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 1, strategy: "Recreate"));
        sim.RunToCompletion();
        var old = Only(sim);
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");
        sim.Reconcile();
        sim.ApplyScaleDowns();
        sim.Pods.Add(Objects.Pod("terminating", owner: old.Metadata!.Name));

        sim.Reconcile();

        Assert.Single(sim.ReplicaSets);
    }

    [Fact]
    public void Run_Paused_DoesNotRollOutAndReportsPaused()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 2));
        sim.RunToCompletion();
        sim.ChangeSpec(s => s.Paused = true);
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");

        sim.RunToCompletion();

        Assert.Single(sim.ReplicaSets);
        var progressing = Condition(sim.Deployment, "Progressing");
        Assert.Equal(("Unknown", DeploymentConditions.DeploymentPaused, "Deployment is paused"), (progressing.Status, progressing.Reason, progressing.Message));

        sim.ChangeSpec(s => s.Paused = false);
        sim.Reconcile();
        Assert.Equal(2, sim.ReplicaSets.Count);
    }

    [Fact]
    public void Run_PausedAndScaled_ScalesWithoutRollingOut()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 2));
        sim.RunToCompletion();
        sim.ChangeSpec(s => s.Paused = true);
        sim.ChangeSpec(s => s.Replicas = 5);

        sim.RunToCompletion();

        Assert.Equal(5, Only(sim).Spec!.Replicas);
        Assert.Equal(5, sim.Deployment.Status!.AvailableReplicas);
    }

    [Fact]
    public void Run_NoProgressPastDeadline_ReportsProgressDeadlineExceeded()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 2));
        sim.Deployment.Spec!.ProgressDeadlineSeconds = 60;
        sim.Reconcile();
        sim.ReplicaSetsCatchUp(_ => 0);
        sim.Reconcile();
        var stuck = sim.Reconcile();
        Assert.Equal(TimeSpan.FromSeconds(61), stuck.RequeueAfter);

        sim.Now = sim.Now.AddSeconds(61);
        sim.Reconcile();

        var progressing = Condition(sim.Deployment, "Progressing");
        Assert.Equal(("False", DeploymentConditions.ProgressDeadlineExceeded), (progressing.Status, progressing.Reason));
        Assert.Equal($"ReplicaSet \"{Only(sim).Metadata!.Name}\" has timed out progressing.", progressing.Message);
        var available = Condition(sim.Deployment, "Available");
        Assert.Equal(DeploymentConditions.MinimumReplicasUnavailable, available.Reason);
    }

    [Fact]
    public void Run_ScaledMidRollout_ScalesReplicaSetsProportionally()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 10, maxSurge: 3, maxUnavailable: 2));
        sim.RunToCompletion();
        sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");
        sim.Reconcile();
        sim.Reconcile();
        sim.ReplicaSetsCatchUp(_ => 0);
        var before = sim.ReplicaSets.Sum(r => r.Spec!.Replicas);
        Assert.Equal(2, sim.ReplicaSets.Count(r => r.Spec!.Replicas > 0));

        sim.ChangeSpec(s => s.Replicas = 20);
        sim.Reconcile();

        Assert.True(before < sim.ReplicaSets.Sum(r => r.Spec!.Replicas));
        Assert.True(sim.ReplicaSets.Sum(r => r.Spec!.Replicas) <= 20 + 3);
        Assert.All(sim.ReplicaSets, r => Assert.Equal("20", r.Metadata!.Annotations![DeploymentAnnotations.DesiredReplicas]));
        sim.RunToCompletion();
        Assert.Equal(20, sim.ReplicaSets.Single(r => r.Spec!.Replicas > 0).Spec!.Replicas);
    }

    [Fact]
    public void Run_ReplicaSetReportsFailure_SurfacesReplicaFailureCondition()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 1));
        sim.Reconcile();
        Only(sim).Status!.Conditions = [new ReplicaSetCondition { Type = "ReplicaFailure", Status = "True", Reason = "FailedCreate", Message = "quota exceeded" }];

        sim.Reconcile();

        var failure = Condition(sim.Deployment, "ReplicaFailure");
        Assert.Equal(("FailedCreate", "quota exceeded"), (failure.Reason, failure.Message));
    }

    [Fact]
    public void Run_EmptySelector_WarnsAndDoesNothing()
    {
        var deployment = Objects.Deployment();
        deployment.Spec!.Selector = new();
        var sim = new RolloutSimulation(deployment);

        var result = sim.Reconcile();

        Assert.Empty(sim.ReplicaSets);
        Assert.Contains(result.Events, e => e.Reason == "SelectorOverride");
    }

    [Fact]
    public void Run_RestartedAtAnnotation_RollsOutNewReplicaSet()
    {
        var sim = new RolloutSimulation(Objects.Deployment(replicas: 1));
        sim.RunToCompletion();

        sim.ChangeSpec(s => s.Template!.Metadata!.Annotations = new() { ["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:00Z" });
        sim.RunToCompletion();

        Assert.Equal(2, sim.ReplicaSets.Count);
        Assert.Equal(1, sim.ReplicaSets.Single(r => r.Spec!.Template!.Metadata!.Annotations is not null).Spec!.Replicas);
    }
}
