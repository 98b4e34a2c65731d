using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.StatefulSets;

namespace Kubesharp.ControllerManager.Tests.StatefulSets;

public sealed class StatefulSetPlannerTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);

    internal static StatefulSet Set(int replicas = 3, string policy = "OrderedReady", int? partition = 0, IntOrString? maxUnavailable = null, string strategy = "RollingUpdate", int? start = null, int minReadySeconds = 0) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "StatefulSet",
        Metadata = new ObjectMeta { Name = "web", Namespace = "default", Uid = "uid-web", Generation = 2 },
        Spec = new StatefulSetSpec
        {
            Replicas = replicas,
            ServiceName = "web-svc",
            PodManagementPolicy = policy,
            MinReadySeconds = minReadySeconds,
            Ordinals = start is null ? null : new StatefulSetOrdinals { Start = start },
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } },
            Template = Objects.Template("web", "nginx:2"),
            UpdateStrategy = strategy == "RollingUpdate"
                ? new StatefulSetUpdateStrategy { Type = strategy, RollingUpdate = new RollingUpdateStatefulSetStrategy { Partition = partition, MaxUnavailable = maxUnavailable } }
                : new StatefulSetUpdateStrategy { Type = strategy },
        },
    };

    /// <summary>A member pod at a revision, Running and Ready since <paramref name="readySince"/> unless told otherwise.</summary>
    private static Pod Member(StatefulSet set, int ordinal, string revision = "rev-1", bool ready = true, DateTimeOffset? readySince = null, string phase = "Running")
    {
        var pod = StatefulPodIdentity.NewPod(set, set.Spec!.Template, revision, ordinal);
        pod.Metadata!.Uid = "uid-" + pod.Metadata.Name;
        pod.Status = new PodStatus
        {
            Phase = phase,
            Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = readySince ?? Objects.Epoch }],
        };
        return pod;
    }

    private static StatefulSetPlan Plan(StatefulSet set, IReadOnlyList<Pod> pods, string current = "rev-1", string update = "rev-1", DateTimeOffset? now = null) =>
        StatefulSetPlanner.Plan(set, set.Spec!.Template, current, set.Spec.Template, update, pods, now ?? Now);

    private static IEnumerable<string> Describe(StatefulSetPlan plan) => plan.Actions.Select(a => $"{a.Kind} {a.Pod.Metadata!.Name}");

    [Fact]
    public void Plan_OrderedReadyScaleUp_CreatesOnePodAtATimeWaitingForReadiness()
    {
        var set = Set(3);

        Assert.Equal(["Create web-0"], Describe(Plan(set, [])));
        Assert.Empty(Plan(set, [Member(set, 0, ready: false, phase: "Pending")]).Actions);
        Assert.Equal(["Create web-1"], Describe(Plan(set, [Member(set, 0)])));
        Assert.Equal(["Create web-2"], Describe(Plan(set, [Member(set, 0), Member(set, 1)])));
    }

    [Fact]
    public void Plan_Parallel_CreatesEveryMissingPodAtOnce()
    {
        var set = Set(3, policy: "Parallel");

        Assert.Equal(["Create web-0", "Create web-1", "Create web-2"], Describe(Plan(set, [])));
    }

    [Fact]
    public void Plan_OrderedReadyScaleDown_DeletesHighestOrdinalFirstOneAtATime()
    {
        var set = Set(5);
        var pods = Enumerable.Range(0, 5).Select(i => Member(set, i)).ToList();
        set.Spec!.Replicas = 2;

        Assert.Equal(["Delete web-4"], Describe(Plan(set, pods)));
        pods[4].Metadata!.DeletionTimestamp = Now;
        Assert.Empty(Plan(set, pods).Actions);
        pods.RemoveAt(4);
        Assert.Equal(["Delete web-3"], Describe(Plan(set, pods)));
    }

    [Fact]
    public void Plan_ParallelScaleDown_DeletesAllCondemnedPods()
    {
        var set = Set(4, policy: "Parallel");
        var pods = Enumerable.Range(0, 4).Select(i => Member(set, i)).ToList();
        set.Spec!.Replicas = 1;

        Assert.Equal(["Delete web-3", "Delete web-2", "Delete web-1"], Describe(Plan(set, pods)));
    }

    [Fact]
    public void Plan_OrdinalsStart_NamesPodsFromTheStart()
    {
        var set = Set(2, policy: "Parallel", start: 5);

        var plan = Plan(set, []);

        Assert.Equal(["Create web-5", "Create web-6"], Describe(plan));
        var pod = plan.Actions[0].Pod;
        Assert.Equal("5", pod.Metadata!.Labels![StatefulPodIdentity.PodIndexLabel]);
        Assert.Equal("web-5", pod.Metadata.Labels[StatefulPodIdentity.PodNameLabel]);
        Assert.Equal("web-5", pod.Spec!.Hostname);
        Assert.Equal("web-svc", pod.Spec.Subdomain);
    }

    [Fact]
    public void Plan_RollingUpdateWithPartition_ReplacesFromTheTopDownToThePartition()
    {
        var set = Set(3, partition: 1);
        var pods = Enumerable.Range(0, 3).Select(i => Member(set, i)).ToList();

        // Replace what the plan deletes with a pod of the update revision until nothing is left to do.
        var deleted = new List<string>();
        for (var round = 0; round < 10; round++)
        {
            var plan = Plan(set, pods, update: "rev-2");
            if (plan.Actions.Count == 0)
            {
                break;
            }

            var action = Assert.Single(plan.Actions);
            Assert.Equal(StatefulSetActionKind.Delete, action.Kind);
            deleted.Add(action.Pod.Metadata!.Name!);
            pods[action.Ordinal] = Member(set, action.Ordinal, "rev-2");
        }

        Assert.Equal(["web-2", "web-1"], deleted);
        Assert.Equal(["rev-1", "rev-2", "rev-2"], pods.Select(StatefulPodIdentity.Revision));
        var status = Plan(set, pods, update: "rev-2").Status;
        Assert.Equal(2, status.UpdatedReplicas);
        Assert.Equal(1, status.CurrentReplicas);
        Assert.Equal("rev-1", status.CurrentRevision);
        Assert.Equal("rev-2", status.UpdateRevision);
    }

    [Fact]
    public void Plan_RecreatedPodBelowPartition_KeepsTheCurrentRevision()
    {
        var set = Set(3, partition: 2);
        var pods = new List<Pod> { Member(set, 1), Member(set, 2, "rev-2") };

        var action = Assert.Single(Plan(set, pods, update: "rev-2").Actions);

        Assert.Equal(StatefulSetActionKind.Create, action.Kind);
        Assert.Equal("rev-1", StatefulPodIdentity.Revision(action.Pod));
    }

    [Fact]
    public void Plan_MaxUnavailableTwo_ReplacesTwoPodsAtOnce()
    {
        var set = Set(4, maxUnavailable: 2);
        var pods = Enumerable.Range(0, 4).Select(i => Member(set, i)).ToList();

        Assert.Equal(["Delete web-3", "Delete web-2"], Describe(Plan(set, pods, update: "rev-2")));
        pods[3] = Member(set, 3, "rev-2", ready: false, phase: "Pending");
        Assert.DoesNotContain(Plan(set, pods, update: "rev-2").Actions, a => a.Kind == StatefulSetActionKind.Delete);
    }

    [Fact]
    public void Plan_OnDelete_NeverReplacesPodsButCreatesMissingOnesAtTheUpdateRevision()
    {
        var set = Set(2, strategy: "OnDelete");
        var pods = new List<Pod> { Member(set, 0) };

        var action = Assert.Single(Plan(set, pods, update: "rev-2").Actions);

        Assert.Equal(StatefulSetActionKind.Create, action.Kind);
        Assert.Equal("rev-2", StatefulPodIdentity.Revision(action.Pod));
        pods.Add(Member(set, 1, "rev-2"));
        Assert.Empty(Plan(set, pods, update: "rev-2").Actions);
    }

    [Fact]
    public void Plan_MinReadySeconds_WaitsForAvailabilityAndSaysWhenToLookAgain()
    {
        var set = Set(2, minReadySeconds: 30);
        var pods = new List<Pod> { Member(set, 0, readySince: Now.AddSeconds(-10)) };

        var waiting = Plan(set, pods);
        var later = Plan(set, pods, now: Now.AddSeconds(25));

        Assert.Empty(waiting.Actions);
        Assert.Equal(TimeSpan.FromSeconds(21), waiting.RequeueAfter);
        Assert.Equal(0, waiting.Status.AvailableReplicas);
        Assert.Equal(1, waiting.Status.ReadyReplicas);
        Assert.Equal(["Create web-1"], Describe(later));
        Assert.Equal(1, later.Status.AvailableReplicas);
    }

    [Fact]
    public void Plan_FailedPod_IsRecreated()
    {
        var set = Set(2);
        var pods = new List<Pod> { Member(set, 0, phase: "Failed", ready: false), Member(set, 1) };

        Assert.Equal(["Recreate web-0"], Describe(Plan(set, pods)));
    }

    [Fact]
    public void Plan_SetBeingDeleted_OnlyReportsStatus()
    {
        var set = Set(3);
        set.Metadata!.DeletionTimestamp = Now;

        var plan = Plan(set, [Member(set, 0)]);

        Assert.Empty(plan.Actions);
        Assert.Equal(1, plan.Status.Replicas);
    }

    [Fact]
    public void Status_AllPodsUpdatedAndReady_MakesTheUpdateRevisionCurrent()
    {
        var set = Set(2);
        var pods = new List<Pod> { Member(set, 0, "rev-2"), Member(set, 1, "rev-2") };

        var status = Plan(set, pods, update: "rev-2").Status;

        Assert.Equal("rev-2", status.CurrentRevision);
        Assert.Equal(2, status.CurrentReplicas);
        Assert.Equal(2, status.UpdatedReplicas);
        Assert.Equal(2, status.ReadyReplicas);
        Assert.Equal(2, status.AvailableReplicas);
        Assert.Equal(2, status.ObservedGeneration);
    }
}
