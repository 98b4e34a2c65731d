using System.Globalization;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Jobs;

namespace Kubesharp.ControllerManager.Tests.Jobs;

/// <summary>
/// A Job and its pods that apply each <see cref="JobSyncPlan"/> as the API would (created pods get names and uids,
/// finalizers go, deleted pods turn terminating), so tests can run the planner over many rounds on a fake clock.
/// </summary>
internal sealed class JobWorld
{
    private int counter;

    public JobWorld(JobSpec spec, string name = "work")
    {
        Job = new Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new ObjectMeta { Name = name, Namespace = "default", Uid = "job-uid", CreationTimestamp = Now },
            Spec = spec,
        };
    }

    public DateTimeOffset Now { get; set; } = Objects.Epoch;

    public Job Job { get; private set; }

    public List<Pod> Pods { get; } = [];

    public List<ControllerEvent> Events { get; } = [];

    public JobSyncPlan? Last { get; private set; }

    public JobStatus Status => Job.Status ?? new JobStatus();

    public static JobSpec Spec(int? completions = 1, int? parallelism = 1, int backoffLimit = 6, string mode = "NonIndexed", string restartPolicy = "Never") => new()
    {
        Completions = completions,
        Parallelism = parallelism,
        BackoffLimit = backoffLimit,
        CompletionMode = mode,
        Suspend = false,
        PodReplacementPolicy = "TerminatingOrFailed",
        Selector = new LabelSelector { MatchLabels = new() { ["batch.kubernetes.io/controller-uid"] = "job-uid" } },
        Template = new PodTemplateSpec
        {
            Metadata = new ObjectMeta { Labels = new() { ["batch.kubernetes.io/controller-uid"] = "job-uid", ["batch.kubernetes.io/job-name"] = "work" } },
            Spec = new PodSpec { RestartPolicy = restartPolicy, Containers = [new Container { Name = "main", Image = "busybox" }] },
        },
    };

    /// <summary>Plans one round and applies it; returns the plan.</summary>
    public JobSyncPlan Sync(IReadOnlySet<string>? inFlight = null)
    {
        var plan = JobSync.Plan(Job, Pods, inFlight ?? new HashSet<string>(), Now);
        Last = plan;
        foreach (var pod in plan.RemoveFinalizers.Concat(plan.Delete))
        {
            Replace(pod, p => p.Metadata!.Finalizers = p.Metadata.Finalizers?.Where(f => f != JobPods.TrackingFinalizer).ToList());
        }

        foreach (var pod in plan.Delete)
        {
            Replace(pod, p => p.Metadata!.DeletionTimestamp = Now);
        }

        foreach (var (index, failures) in plan.Create)
        {
            var pod = JobPods.New(Job, index, failures);
            counter++;
            pod.Metadata!.Name = pod.Metadata.GenerateName + counter.ToString(CultureInfo.InvariantCulture);
            pod.Metadata.Uid = "pod-" + counter.ToString(CultureInfo.InvariantCulture);
            pod.Metadata.CreationTimestamp = Now;
            pod.Status = new PodStatus { Phase = "Pending" };
            Pods.Add(pod);
        }

        Job = Job with { Status = plan.Status };
        Events.AddRange(plan.Events);
        return plan;
    }

    public List<Pod> Active => Pods.Where(JobPods.IsActive).ToList();

    /// <summary>Ends a pod's one container with the exit code, now.</summary>
    public void Finish(Pod pod, int exitCode) => Replace(pod, p => p.Status = new PodStatus
    {
        Phase = exitCode == 0 ? "Succeeded" : "Failed",
        ContainerStatuses = [new ContainerStatus { Name = "main", State = new ContainerState { Terminated = new ContainerStateTerminated { ExitCode = exitCode, FinishedAt = Now } } }],
    });

    public void Run(Pod pod) => Replace(pod, p => p.Status = new PodStatus
    {
        Phase = "Running",
        Conditions = [new PodCondition { Type = "Ready", Status = "True", LastTransitionTime = Now }],
    });

    /// <summary>Pods deleted earlier go away (their kubelet is done with them).</summary>
    public void Reap() => Pods.RemoveAll(p => p.Metadata?.DeletionTimestamp is not null && p.Metadata.Finalizers is not { Count: > 0 });

    public void Change(Func<JobSpec, JobSpec> change) => Job = Job with { Spec = change(Job.Spec!) };

    private void Replace(Pod pod, Action<Pod> change)
    {
        var index = Pods.FindIndex(p => p.Metadata!.Uid == pod.Metadata!.Uid);
        var copy = Kubesharp.ControllerManager.Objects.ObjectCopy.Clone(Pods[index]);
        change(copy);
        Pods[index] = copy;
    }
}
