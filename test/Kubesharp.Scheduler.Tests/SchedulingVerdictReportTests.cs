using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Tests;

public sealed class SchedulingVerdictReportTests
{
    private static readonly SchedulingAlgorithm Algorithm = new(SchedulerProfile.Default(), random: new Random(1));

    [Fact]
    public void Render_UnschedulablePod_ListsEveryNodeAndFailingPlugin()
    {
        var taint = new Taint { Key = "k", Value = "v", Effect = "NoSchedule" };
        var snapshot = ClusterSnapshot.Build([Make.Node("small", cpu: "1"), Make.Node("tainted", cpu: "1", taints: [taint])], []);
        var pod = Make.Pod("p", cpu: "2");
        var result = Algorithm.Schedule(new PodInfo(pod), snapshot);
        pod.Metadata!.Annotations = new() { [SchedulingVerdict.AnnotationKey] = SchedulingVerdict.ToJson(result, 3, DateTimeOffset.UnixEpoch, result.FailureMessage) };

        var lines = SchedulingVerdictReport.Render(pod).Split('\n');

        Assert.Equal("Pod default/p is pending: Unschedulable at attempt 3 (1970-01-01T00:00:00Z).", lines[0]);
        Assert.Contains(lines, l => l.Trim() == result.FailureMessage);
        Assert.Contains("Nodes: 2 in the cluster, 2 evaluated, 0 feasible.", lines);
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["small", "NodeResourcesFit", "Insufficient", "cpu"]);
        Assert.Contains(lines, l => l.StartsWith("  tainted", StringComparison.Ordinal) && l.Contains("TaintToleration", StringComparison.Ordinal) && l.Contains("untolerated taint {k: v}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  tainted", StringComparison.Ordinal) && l.Contains("NodeResourcesFit", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_BoundPod_SaysWhere()
    {
        var pod = Make.Pod("p", node: "n1");

        Assert.Equal("Pod default/p is scheduled on node n1.\n", SchedulingVerdictReport.Render(pod));
    }

    [Fact]
    public void Render_PendingWithoutVerdict_SaysNoneYet()
    {
        Assert.StartsWith("Pod default/p is pending; the scheduler has recorded no verdict", SchedulingVerdictReport.Render(Make.Pod("p")), StringComparison.Ordinal);
    }
}
