using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Jobs;
using Kubesharp.Kubelet.Simulation;
using EventV1 = Kubesharp.Api.Core.V1.Event;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>Jobs through the real API server, scheduler and controllers on simulated nodes.</summary>
public sealed class JobIntegrationTests(BatchCluster cluster) : IClassFixture<BatchCluster>
{
    private static Job NewJob(string name, int? exitCode, int completions = 1, int parallelism = 1, string mode = "NonIndexed") => new()
    {
        ApiVersion = "batch/v1",
        Kind = "Job",
        Metadata = new ObjectMeta { Name = name },
        Spec = new JobSpec
        {
            Completions = completions,
            Parallelism = parallelism,
            CompletionMode = mode,
            Template = new PodTemplateSpec
            {
                Metadata = new ObjectMeta { Annotations = exitCode is { } code ? new() { [SimulatedExit.Annotation] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null },
                Spec = new PodSpec
                {
                    RestartPolicy = "Never",
                    TerminationGracePeriodSeconds = 0,
                    Containers = [new Container { Name = "main", Image = "busybox" }],
                },
            },
        },
    };

    private async Task<Job> CreateAsync(string ns, Job job) =>
        await cluster.Client.Resource<Job>().CreateAsync(job with { Metadata = job.Metadata! with { Namespace = ns } });

    private Task<Job> WaitAsync(string ns, string name, Func<Job, bool> condition, string what) =>
        ControllerCluster.EventuallyAsync(() => cluster.Client.Resource<Job>().GetAsync(ns, name), condition, what);

    private async Task<List<Pod>> PodsAsync(string ns) => [.. (await cluster.Client.Resource<Pod>().ListAsync(ns)).Items];

    private async Task<List<EventV1>> EventsAsync(string ns) => [.. (await cluster.Client.Resource<EventV1>().ListAsync(ns)).Items];

    [Fact]
    public async Task Job_ElasticIndexed_GrowsAndShrinksWithCompletionsAndParallelismTogether()
    {
        var ns = await cluster.NewNamespaceAsync();
        await CreateAsync(ns, NewJob("elastic", null, completions: 2, parallelism: 2, mode: "Indexed"));
        await WaitAsync(ns, "elastic", j => j.Status?.Active == 2, "two active pods");
        var jobs = cluster.Client.Resource<Job>();

        var alone = await Assert.ThrowsAsync<StatusException>(() => jobs.PatchAsync(ns, "elastic", PatchType.Merge, """{"spec":{"completions":4}}"""));
        Assert.Equal(422, alone.Code);
        Assert.Contains("spec.completions: Invalid value: 4: can only be modified in tandem with spec.parallelism", alone.Message, StringComparison.Ordinal);

        await jobs.PatchAsync(ns, "elastic", PatchType.Merge, """{"spec":{"completions":4,"parallelism":4}}""");
        await WaitAsync(ns, "elastic", j => j.Status?.Active == 4, "four active pods");
        await jobs.PatchAsync(ns, "elastic", PatchType.Merge, """{"spec":{"completions":1,"parallelism":1}}""");
        await WaitAsync(ns, "elastic", j => j.Status?.Active == 1, "one active pod");
        var indexes = (await PodsAsync(ns)).Where(p => p.Metadata?.DeletionTimestamp is null && p.Status?.Phase is "Pending" or "Running")
            .Select(p => p.Metadata!.Annotations!["batch.kubernetes.io/job-completion-index"]).ToList();
        Assert.Equal(["0"], indexes);

        await CreateAsync(ns, NewJob("fixed", null, completions: 2, parallelism: 2));
        var fixedJob = await Assert.ThrowsAsync<StatusException>(() => jobs.PatchAsync(ns, "fixed", PatchType.Merge, """{"spec":{"completions":3,"parallelism":3}}"""));
        Assert.Contains("spec.completions: Invalid value: 3: field is immutable", fixedJob.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Job_DeletedWithOrphanPropagation_ItsPodsLoseTheTrackingFinalizerAndCanGo()
    {
        var ns = await cluster.NewNamespaceAsync();
        await CreateAsync(ns, NewJob("orphaning", null, completions: 2, parallelism: 2));
        await WaitAsync(ns, "orphaning", j => j.Status?.Active == 2, "two active pods");
        var running = await PodsAsync(ns);
        Assert.All(running, p => Assert.Contains(JobPods.TrackingFinalizer, p.Metadata!.Finalizers!));

        // kubectl delete job --cascade=orphan: the garbage collector strips the owner references, the Job goes.
        await cluster.Client.Resource<Job>().DeleteAsync(ns, "orphaning", new DeleteOptions { PropagationPolicy = "Orphan" });
        var orphans = await ControllerCluster.EventuallyAsync(
            () => PodsAsync(ns),
            p => p.Count == 2 && p.All(x => x.Metadata!.OwnerReferences is null or { Count: 0 } && x.Metadata.Finalizers?.Contains(JobPods.TrackingFinalizer) != true),
            "the orphaned pods without owner and tracking finalizer");
        Assert.Equal(running.Select(p => p.Metadata!.Uid).Order(StringComparer.Ordinal), orphans.Select(p => p.Metadata!.Uid).Order(StringComparer.Ordinal));
        Assert.All(orphans, p => Assert.Null(p.Metadata!.DeletionTimestamp));

        // Nothing holds them any more: deleted, they are gone.
        foreach (var pod in orphans)
        {
            await cluster.Client.Resource<Pod>().DeleteAsync(ns, pod.Metadata!.Name!, new DeleteOptions { GracePeriodSeconds = 0 });
        }

        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 0, "the deleted orphans gone");
    }

    [Fact]
    public async Task Job_IndexedOnSimulatedNodes_CompletesEveryIndex()
    {
        var ns = await cluster.NewNamespaceAsync();
        var created = await CreateAsync(ns, NewJob("indexed", 0, completions: 3, parallelism: 3, mode: "Indexed"));
        Assert.Equal(created.Metadata!.Uid, created.Spec!.Selector!.MatchLabels!["batch.kubernetes.io/controller-uid"]);

        var job = await WaitAsync(ns, "indexed", j => JobConditions.IsTrue(j.Status, JobConditions.Complete), "the indexed job to complete");

        Assert.Equal((3, "0-2", (int?)null), (job.Status!.Succeeded, job.Status.CompletedIndexes, job.Status.Active));
        Assert.Equal("True", JobConditions.Get(job.Status, JobConditions.SuccessCriteriaMet)?.Status);
        Assert.NotNull(job.Status.CompletionTime);
        var pods = await PodsAsync(ns);
        Assert.Equal(3, pods.Count);
        Assert.Equal(["0", "1", "2"], pods.Select(p => p.Metadata!.Labels![JobPods.CompletionIndexKey]).Order());
        Assert.All(pods, p => Assert.DoesNotContain(JobPods.TrackingFinalizer, p.Metadata!.Finalizers ?? []));
        Assert.All(pods, p => Assert.Equal("indexed-" + p.Metadata!.Labels![JobPods.CompletionIndexKey], p.Spec!.Hostname));
        var events = await ControllerCluster.EventuallyAsync(() => EventsAsync(ns), e => e.Any(x => x.Reason == "Completed"), "the Completed event");
        Assert.Equal(3, events.Count(e => e.Reason == "SuccessfulCreate" && e.InvolvedObject?.Name == "indexed"));
    }

    [Fact]
    public async Task Job_FailingIndexWithBackoffLimitPerIndex_FailsThatIndexOnly()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("per-index", null, completions: 3, parallelism: 3, mode: "Indexed");
        job.Spec!.BackoffLimitPerIndex = 0;
        await CreateAsync(ns, job);
        var pods = await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count(x => x.Status?.Phase == "Running") == 3, "three running pods");

        // Act as each pod's node: index 1 fails, the others succeed.
        foreach (var pod in pods)
        {
            var code = pod.Metadata!.Labels![JobPods.CompletionIndexKey] == "1" ? 3 : 0;
            await cluster.Client.Resource<Pod>().UpdateStatusAsync(pod with { Status = SimulatedExit.Finish(pod.Status!, code, DateTimeOffset.UtcNow) });
        }

        var failed = await WaitAsync(ns, "per-index", j => JobConditions.IsTrue(j.Status, JobConditions.Failed), "the job to fail");
        Assert.Equal(("1", "0,2", 1, 2), (failed.Status!.FailedIndexes, failed.Status.CompletedIndexes, failed.Status.Failed, failed.Status.Succeeded));
        Assert.Equal(JobConditions.FailedIndexes, JobConditions.Get(failed.Status, JobConditions.Failed)!.Reason);
        Assert.Equal(3, (await PodsAsync(ns)).Count);
    }

    [Fact]
    public async Task Job_BackoffLimitZero_FailsOnTheFirstFailure()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("fails", 1);
        job.Spec!.BackoffLimit = 0;
        await CreateAsync(ns, job);

        var failed = await WaitAsync(ns, "fails", j => JobConditions.IsTrue(j.Status, JobConditions.Failed), "the job to fail");

        var condition = JobConditions.Get(failed.Status, JobConditions.Failed)!;
        Assert.Equal((JobConditions.BackoffLimitExceeded, "Job has reached the specified backoff limit"), (condition.Reason, condition.Message));
        Assert.Equal(1, failed.Status!.Failed);
        await ControllerCluster.EventuallyAsync(() => EventsAsync(ns), e => e.Any(x => x.Reason == JobConditions.BackoffLimitExceeded && x.Type == "Warning"), "the failure event");
    }

    [Fact]
    public async Task Job_PodFailurePolicyFailJob_FailsWithThePolicyReason()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("policy", 42);
        job.Spec!.PodFailurePolicy = new PodFailurePolicy
        {
            Rules = [new PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new PodFailurePolicyOnExitCodesRequirement { Operator = "In", Values = [42] } }],
        };
        var created = await CreateAsync(ns, job);
        Assert.Equal("Failed", created.Spec!.PodReplacementPolicy);

        var failed = await WaitAsync(ns, "policy", j => JobConditions.IsTrue(j.Status, JobConditions.Failed), "the job to fail");

        var condition = JobConditions.Get(failed.Status, JobConditions.Failed)!;
        Assert.Equal(JobConditions.PodFailurePolicy, condition.Reason);
        Assert.Matches("^Container main for pod .+/policy-.+ failed with exit code 42 matching FailJob rule at index 0$", condition.Message);
    }

    [Fact]
    public async Task Job_ActiveDeadline_StopsRunningPodsAndFails()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("slow", null, completions: 2, parallelism: 2);
        job.Spec!.ActiveDeadlineSeconds = 2;
        await CreateAsync(ns, job);

        var failed = await WaitAsync(ns, "slow", j => JobConditions.IsTrue(j.Status, JobConditions.Failed), "the deadline to pass");

        Assert.Equal(JobConditions.DeadlineExceeded, JobConditions.Get(failed.Status, JobConditions.Failed)!.Reason);
        Assert.Equal(JobConditions.DeadlineExceeded, JobConditions.Get(failed.Status, JobConditions.FailureTarget)!.Reason);
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 0, "the job's pods to go");
    }

    [Fact]
    public async Task Job_SuspendedThenResumed_StartsItsPodsOnlyWhenResumed()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("later", 0, completions: 2, parallelism: 2);
        job.Spec!.Suspend = true;
        await CreateAsync(ns, job);
        var suspended = await WaitAsync(ns, "later", j => JobConditions.IsTrue(j.Status, JobConditions.Suspended), "the Suspended condition");
        Assert.Equal(JobConditions.JobSuspended, JobConditions.Get(suspended.Status, JobConditions.Suspended)!.Reason);
        Assert.Empty(await PodsAsync(ns));

        await cluster.Client.Resource<Job>().PatchAsync(ns, "later", PatchType.Merge, """{"spec":{"suspend":false}}""");

        var done = await WaitAsync(ns, "later", j => JobConditions.IsTrue(j.Status, JobConditions.Complete), "the resumed job to complete");
        Assert.Equal(("False", JobConditions.JobResumed), (JobConditions.Get(done.Status, JobConditions.Suspended)!.Status, JobConditions.Get(done.Status, JobConditions.Suspended)!.Reason));
        Assert.Equal(2, done.Status!.Succeeded);
    }

    [Fact]
    public async Task Job_TtlAfterFinished_IsDeletedWithItsPods()
    {
        var ns = await cluster.NewNamespaceAsync();
        var job = NewJob("short-lived", 0);
        job.Spec!.TtlSecondsAfterFinished = 0;
        await CreateAsync(ns, job);

        await ControllerCluster.EventuallyAsync(
            async () =>
            {
                try
                {
                    await cluster.Client.Resource<Job>().GetAsync(ns, "short-lived");
                    return false;
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    return true;
                }
            },
            gone => gone,
            "the finished job to be deleted");
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 0, "its pods to go");
    }
}
