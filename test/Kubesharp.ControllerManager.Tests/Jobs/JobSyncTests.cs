using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.Jobs;

namespace Kubesharp.ControllerManager.Tests.Jobs;

public sealed class JobSyncTests
{
    private static JobCondition? Condition(JobWorld world, string type) => JobConditions.Get(world.Status, type);

    [Fact]
    public void Plan_CompletionsAndParallelism_RunsToCompleteThroughSuccessCriteriaMet()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 3, parallelism: 2));

        world.Sync();
        Assert.Equal(2, world.Active.Count);
        Assert.All(world.Pods, p => Assert.Contains(JobPods.TrackingFinalizer, p.Metadata!.Finalizers!));
        Assert.All(world.Pods, p => Assert.Equal(("Job", "work", true), (p.Metadata!.OwnerReferences![0].Kind, p.Metadata.OwnerReferences[0].Name, p.Metadata.OwnerReferences[0].Controller == true)));
        Assert.Equal(2, world.Status.Active);
        Assert.Equal(Objects.Epoch, world.Status.StartTime);

        world.Now = world.Now.AddSeconds(30);
        world.Finish(world.Pods[0], 0);
        world.Finish(world.Pods[1], 0);
        var plan = world.Sync();
        Assert.Equal(2, plan.Interim!.UncountedTerminatedPods!.Succeeded!.Count);
        Assert.Equal(2, world.Status.Succeeded);
        Assert.Single(world.Active);
        Assert.Equal(2, world.Pods.Count(p => p.Metadata!.Finalizers is not { Count: > 0 }));

        world.Now = world.Now.AddSeconds(30);
        world.Finish(world.Active[0], 0);
        world.Sync();
        Assert.Equal(3, world.Status.Succeeded);
        Assert.Equal(("True", JobConditions.CompletionsReached), (Condition(world, JobConditions.SuccessCriteriaMet)!.Status, Condition(world, JobConditions.SuccessCriteriaMet)!.Reason));
        Assert.Equal("True", Condition(world, JobConditions.Complete)?.Status);
        Assert.Equal(world.Now, world.Status.CompletionTime);
        Assert.Contains(world.Events, e => e.Reason == "Completed" && e.Message == "Job completed");

        // Nothing more happens to a finished Job.
        var after = world.Sync();
        Assert.Empty(after.Create);
        Assert.Equal(3, world.Status.Succeeded);
    }

    [Fact]
    public void Plan_FinalizerRemovalInFlight_CountsEachPodOnce()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 2, parallelism: 2));
        world.Sync();
        world.Finish(world.Pods[0], 0);
        var stalePods = world.Pods.ToList();
        var plan = world.Sync();
        Assert.Equal(1, world.Status.Succeeded);

        // The cache still shows the finalizer: the pod whose removal is in flight is not counted again.
        var again = JobSync.Plan(world.Job, stalePods, new HashSet<string> { plan.RemoveFinalizers[0].Metadata!.Uid! }, world.Now);
        Assert.Equal(1, again.Status.Succeeded);
        Assert.Null(again.Interim);
    }

    [Fact]
    public void Plan_UncountedFromAnEarlierRound_AreCountedWhenTheirFinalizersGo()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 2, parallelism: 1));
        world.Sync();
        world.Finish(world.Pods[0], 0);
        var interim = JobSync.Plan(world.Job, world.Pods, new HashSet<string>(), world.Now).Interim!;

        // The round crashed after writing the interim status: the next one finishes the job.
        var plan = JobSync.Plan(world.Job with { Status = interim }, world.Pods, new HashSet<string>(), world.Now);
        Assert.Null(plan.Interim);
        Assert.Single(plan.RemoveFinalizers);
        Assert.Equal(1, plan.Status.Succeeded);
        Assert.Null(plan.Status.UncountedTerminatedPods!.Succeeded);
    }

    [Fact]
    public void Plan_Failures_BackOffExponentiallyThenFailOnTheBackoffLimit()
    {
        var world = new JobWorld(JobWorld.Spec(backoffLimit: 2));
        world.Sync();

        world.Now = world.Now.AddSeconds(5);
        world.Finish(world.Pods[0], 1);
        var plan = world.Sync();
        Assert.Equal(1, world.Status.Failed);
        Assert.Empty(plan.Create);
        Assert.Equal(TimeSpan.FromSeconds(10), plan.RequeueAfter);

        world.Now = world.Now.AddSeconds(10);
        Assert.Single(world.Sync().Create);

        world.Finish(world.Active[0], 1);
        plan = world.Sync();
        Assert.Equal(TimeSpan.FromSeconds(20), plan.RequeueAfter);
        world.Now = world.Now.AddSeconds(20);
        world.Sync();

        world.Finish(world.Active[0], 1);
        world.Sync();
        Assert.Equal(3, world.Status.Failed);
        Assert.Equal(JobConditions.BackoffLimitExceeded, Condition(world, JobConditions.FailureTarget)?.Reason);
        var failed = Condition(world, JobConditions.Failed)!;
        Assert.Equal(("True", JobConditions.BackoffLimitExceeded, "Job has reached the specified backoff limit"), (failed.Status, failed.Reason, failed.Message));
        Assert.Contains(world.Events, e => e.Type == "Warning" && e.Reason == JobConditions.BackoffLimitExceeded);
        Assert.Null(world.Status.CompletionTime);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(6, 320)]
    [InlineData(7, 360)]
    [InlineData(60, 360)]
    public void Delay_DoublesFromTenSecondsUpToSixMinutes(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), JobBackoff.Delay(failures));

    [Fact]
    public void Plan_RestartPolicyOnFailure_ContainerRestartsCountAgainstTheLimit()
    {
        var world = new JobWorld(JobWorld.Spec(backoffLimit: 2, restartPolicy: "OnFailure"));
        world.Sync();
        var pod = world.Pods[0];
        world.Pods[0] = pod with { Status = new PodStatus { Phase = "Running", ContainerStatuses = [new ContainerStatus { Name = "main", RestartCount = 2 }] } };

        world.Sync();

        Assert.Equal(JobConditions.BackoffLimitExceeded, Condition(world, JobConditions.FailureTarget)?.Reason);
        Assert.NotNull(world.Pods[0].Metadata!.DeletionTimestamp);
    }

    [Fact]
    public void Plan_Indexed_EachIndexOnceWithItsIdentity()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 3, parallelism: 2, mode: "Indexed"));

        world.Sync();
        Assert.Equal([0, 1], world.Pods.Select(p => JobPods.CompletionIndex(p)!.Value));
        var first = world.Pods[0];
        Assert.Equal("work-0-", first.Metadata!.GenerateName);
        Assert.Equal("0", first.Metadata.Annotations![JobPods.CompletionIndexKey]);
        Assert.Equal("0", first.Metadata.Labels![JobPods.CompletionIndexKey]);
        Assert.Equal("work-0", first.Spec!.Hostname);
        var env = Assert.Single(first.Spec.Containers![0].Env!);
        Assert.Equal(("JOB_COMPLETION_INDEX", "metadata.annotations['batch.kubernetes.io/job-completion-index']"), (env.Name, env.ValueFrom!.FieldRef!.FieldPath));

        world.Finish(world.Pods[1], 0);
        world.Sync();
        Assert.Equal("1", world.Status.CompletedIndexes);
        Assert.Equal([0, 2], world.Active.Select(p => JobPods.CompletionIndex(p)!.Value).Order());

        foreach (var pod in world.Active)
        {
            world.Finish(pod, 0);
        }

        world.Sync();
        Assert.Equal("0-2", world.Status.CompletedIndexes);
        Assert.Equal(3, world.Status.Succeeded);
        Assert.Equal("True", Condition(world, JobConditions.Complete)?.Status);
    }

    [Fact]
    public void Plan_IndexedDuplicatePods_SurplusDeleted()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 2, parallelism: 2, mode: "Indexed"));
        world.Sync();
        var twin = world.Pods[0] with { Metadata = world.Pods[0].Metadata! with { Uid = "twin", Name = "twin" } };
        world.Pods.Add(twin);
        world.Run(world.Pods[0]);

        var plan = world.Sync();

        Assert.Equal("twin", Assert.Single(plan.Delete).Metadata!.Name);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Plan_PodFailurePolicyFailJob_FailsTheJobAndStopsTheOthers()
    {
        var spec = JobWorld.Spec(completions: 2, parallelism: 2);
        spec.PodFailurePolicy = new PodFailurePolicy
        {
            Rules =
            [
                new PodFailurePolicyRule { Action = "Ignore", OnPodConditions = [new PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget" }] },
                new PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new PodFailurePolicyOnExitCodesRequirement { ContainerName = "main", Operator = "In", Values = [42] } },
            ],
        };
        var world = new JobWorld(spec);
        world.Sync();
        world.Run(world.Pods[1]);

        world.Finish(world.Pods[0], 42);
        var plan = world.Sync();

        var target = Condition(world, JobConditions.FailureTarget)!;
        Assert.Equal(JobConditions.PodFailurePolicy, target.Reason);
        Assert.Equal($"Container main for pod default/{world.Pods[0].Metadata!.Name} failed with exit code 42 matching FailJob rule at index 1", target.Message);
        Assert.Equal(world.Pods[1].Metadata!.Uid, Assert.Single(plan.Delete).Metadata!.Uid);
        Assert.Null(Condition(world, JobConditions.Failed));

        world.Reap();
        world.Sync();
        Assert.Equal((JobConditions.PodFailurePolicy, target.Message), (Condition(world, JobConditions.Failed)!.Reason, Condition(world, JobConditions.Failed)!.Message));
        Assert.Equal(1, world.Status.Failed);
    }

    [Fact]
    public void Plan_PodFailurePolicyIgnore_DoesNotCountNorBackOff()
    {
        var spec = JobWorld.Spec(backoffLimit: 0);
        spec.PodFailurePolicy = new PodFailurePolicy { Rules = [new PodFailurePolicyRule { Action = "Ignore", OnExitCodes = new PodFailurePolicyOnExitCodesRequirement { Operator = "In", Values = [137] } }] };
        var world = new JobWorld(spec);
        world.Sync();

        world.Finish(world.Pods[0], 137);
        var plan = world.Sync();

        Assert.Null(world.Status.Failed);
        Assert.Single(plan.Create);
        Assert.Null(Condition(world, JobConditions.FailureTarget));
    }

    [Fact]
    public void Plan_PodFailurePolicy_WaitsForDeletedPodsToFail()
    {
        var spec = JobWorld.Spec();
        spec.PodFailurePolicy = new PodFailurePolicy { Rules = [new PodFailurePolicyRule { Action = "Count", OnExitCodes = new PodFailurePolicyOnExitCodesRequirement { Operator = "NotIn", Values = [0] } }] };
        spec.PodReplacementPolicy = "Failed";
        var world = new JobWorld(spec);
        world.Sync();
        world.Pods[0] = world.Pods[0] with { Metadata = world.Pods[0].Metadata! with { DeletionTimestamp = world.Now } };

        var plan = world.Sync();

        Assert.Empty(plan.Create);
        Assert.Empty(plan.RemoveFinalizers);
        Assert.Equal(1, world.Status.Terminating);
    }

    [Fact]
    public void Plan_ActiveDeadline_RequeuesUntilItThenFails()
    {
        var spec = JobWorld.Spec();
        spec.ActiveDeadlineSeconds = 60;
        var world = new JobWorld(spec);

        Assert.Equal(TimeSpan.FromSeconds(60), world.Sync().RequeueAfter);
        world.Run(world.Pods[0]);
        world.Now = world.Now.AddSeconds(60);
        var plan = world.Sync();

        Assert.Equal(JobConditions.DeadlineExceeded, Condition(world, JobConditions.FailureTarget)?.Reason);
        Assert.Single(plan.Delete);
        Assert.Equal(1, world.Status.Terminating);
        world.Reap();
        world.Sync();
        var failed = Condition(world, JobConditions.Failed)!;
        Assert.Equal((JobConditions.DeadlineExceeded, "Job was active longer than specified deadline"), (failed.Reason, failed.Message));
        Assert.Null(world.Status.Failed);
    }

    [Fact]
    public void Plan_SuspendAndResume_DeletesPodsThenRestartsTheClock()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 2, parallelism: 2));
        world.Sync();
        world.Change(s => s with { Suspend = true });
        world.Now = world.Now.AddMinutes(1);

        var plan = world.Sync();
        Assert.Equal(2, plan.Delete.Count);
        Assert.Equal(("True", JobConditions.JobSuspended, "Job suspended"), (Condition(world, JobConditions.Suspended)!.Status, Condition(world, JobConditions.Suspended)!.Reason, Condition(world, JobConditions.Suspended)!.Message));
        Assert.Contains(world.Events, e => e.Reason == "Suspended");
        world.Reap();
        Assert.Empty(world.Sync().Create);
        Assert.Null(world.Status.Failed);

        world.Change(s => s with { Suspend = false });
        world.Now = world.Now.AddMinutes(1);
        plan = world.Sync();
        Assert.Equal(2, plan.Create.Count);
        Assert.Equal(("False", JobConditions.JobResumed), (Condition(world, JobConditions.Suspended)!.Status, Condition(world, JobConditions.Suspended)!.Reason));
        Assert.Equal(world.Now, world.Status.StartTime);
        Assert.Contains(world.Events, e => e.Reason == "Resumed" && e.Message == "Job resumed");
    }

    [Fact]
    public void Plan_CreatedSuspended_StartsNothing()
    {
        var spec = JobWorld.Spec() with { Suspend = true };
        var world = new JobWorld(spec);

        var plan = world.Sync();

        Assert.Empty(plan.Create);
        Assert.Null(world.Status.StartTime);
        Assert.Equal("True", Condition(world, JobConditions.Suspended)?.Status);
    }

    [Fact]
    public void Plan_WorkQueue_NoNewPodsAfterTheFirstSuccess()
    {
        var world = new JobWorld(JobWorld.Spec(completions: null, parallelism: 3));
        world.Sync();
        Assert.Equal(3, world.Active.Count);

        world.Finish(world.Pods[0], 0);
        Assert.Empty(world.Sync().Create);
        Assert.Null(Condition(world, JobConditions.Complete));

        world.Finish(world.Pods[1], 0);
        world.Finish(world.Pods[2], 0);
        world.Sync();
        Assert.Equal("True", Condition(world, JobConditions.Complete)?.Status);
        Assert.Equal(3, world.Status.Succeeded);
    }

    [Fact]
    public void Plan_ParallelismLowered_DeletesSurplus()
    {
        var world = new JobWorld(JobWorld.Spec(completions: 5, parallelism: 3));
        world.Sync();
        world.Change(s => s with { Parallelism = 1 });

        var plan = world.Sync();

        Assert.Equal(2, plan.Delete.Count);
        Assert.Equal(1, world.Status.Active);
        Assert.Equal(2, world.Status.Terminating);
        world.Reap();
        world.Sync();
        Assert.Null(world.Status.Failed);
    }

    [Fact]
    public void Plan_BackoffLimitPerIndex_FailsOnlyThatIndex()
    {
        var spec = JobWorld.Spec(completions: 3, parallelism: 3, mode: "Indexed");
        spec.BackoffLimitPerIndex = 1;
        spec.BackoffLimit = int.MaxValue;
        var world = new JobWorld(spec);
        world.Sync();

        world.Finish(world.Pods.Single(p => JobPods.CompletionIndex(p) == 1), 1);
        world.Now = world.Now.AddSeconds(10);
        world.Sync();
        var retry = world.Active.Single(p => JobPods.CompletionIndex(p) == 1);
        Assert.Equal("1", retry.Metadata!.Annotations![JobPods.IndexFailureCountAnnotation]);
        Assert.Equal(string.Empty, world.Status.FailedIndexes);

        world.Finish(retry, 1);
        world.Now = world.Now.AddSeconds(30);
        world.Sync();
        Assert.Equal("1", world.Status.FailedIndexes);
        Assert.DoesNotContain(world.Active, p => JobPods.CompletionIndex(p) == 1);
        Assert.Null(Condition(world, JobConditions.FailureTarget));

        foreach (var pod in world.Active)
        {
            world.Finish(pod, 0);
        }

        world.Sync();
        Assert.Equal("0,2", world.Status.CompletedIndexes);
        Assert.Equal((JobConditions.FailedIndexes, "Job has failed indexes"), (Condition(world, JobConditions.Failed)!.Reason, Condition(world, JobConditions.Failed)!.Message));
    }

    [Fact]
    public void Plan_SuccessPolicy_CompletesWhenTheNamedIndexesSucceed()
    {
        var spec = JobWorld.Spec(completions: 3, parallelism: 3, mode: "Indexed");
        spec.SuccessPolicy = new SuccessPolicy { Rules = [new SuccessPolicyRule { SucceededIndexes = "0" }] };
        var world = new JobWorld(spec);
        world.Sync();

        world.Finish(world.Pods.Single(p => JobPods.CompletionIndex(p) == 0), 0);
        var plan = world.Sync();

        Assert.Equal((JobConditions.SuccessPolicy, "Matched rules at index 0"), (Condition(world, JobConditions.SuccessCriteriaMet)!.Reason, Condition(world, JobConditions.SuccessCriteriaMet)!.Message));
        Assert.Equal(2, plan.Delete.Count);
        world.Reap();
        world.Sync();
        Assert.Equal("True", Condition(world, JobConditions.Complete)?.Status);
    }

    [Theory]
    [InlineData("1,3-5,7", 10, new[] { 1, 3, 4, 5, 7 })]
    [InlineData("0-2,9", 5, new[] { 0, 1, 2 })]
    [InlineData("", 5, new int[0])]
    public void CompletionIndexes_ParseAndFormat_RoundTrip(string text, int completions, int[] indexes)
    {
        Assert.Equal(indexes, CompletionIndexes.Parse(text, completions));
        Assert.Equal(indexes.Length == 0 ? null : (completions == 10 ? text : "0-2"), CompletionIndexes.Format(indexes));
    }
}
