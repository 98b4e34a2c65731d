using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Metrics;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;

namespace Kubesharp.Scheduler.Tests;

/// <summary>The scheduler's metrics in the process registry move as it schedules (other tests may schedule meanwhile: deltas are lower bounds).</summary>
public sealed class SchedulerMetricsTests
{
    private static Pod Tolerating(string name, string cpu) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default" },
        Spec = new PodSpec
        {
            // No node lifecycle controller runs here to lift the not-ready taint new nodes are registered with.
            Tolerations = [new Toleration { Key = SimulatedNodeOptions.TaintKey, Operator = "Exists", Effect = "NoSchedule" }, new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoSchedule" }],
            Containers = [new Container { Name = "c", Image = "busybox", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse(cpu) } } }],
        },
    };

    [Fact]
    public async Task Scheduler_Attempts_CountedByResultAndProfile_PendingPodsByQueue()
    {
        var before = await ScrapeAsync();
        await using var server = await TestApiServer.StartAsync();
        using var nodes = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 1, Cpu = "2" });
        using var scheduler = new SchedulerService(server.Client);
        await nodes.StartAsync(CancellationToken.None);
        await nodes.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        await scheduler.StartAsync(CancellationToken.None);
        await scheduler.Started.WaitAsync(TimeSpan.FromSeconds(60));
        var pods = server.Client.Resource<Pod>();
        await pods.CreateAsync(Tolerating("fits-1", "100m"));
        await pods.CreateAsync(Tolerating("fits-2", "100m"));
        await pods.CreateAsync(Tolerating("huge", "64"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Dictionary<string, double> after;
        while (true)
        {
            after = await ScrapeAsync();
            // The attempts are counted just after the statistics, so both are waited for.
            if (scheduler.Statistics.Bound >= 2 && scheduler.Statistics.Unschedulable >= 1 && Get(after, "scheduler_pending_pods{queue=\"unschedulable\"}") >= 1
                && Delta("scheduler_schedule_attempts_total{result=\"scheduled\",profile=\"default-scheduler\"}") >= 2
                && Delta("scheduler_schedule_attempts_total{result=\"unschedulable\",profile=\"default-scheduler\"}") >= 1
                && Delta("scheduler_scheduling_attempt_duration_seconds_count{result=\"scheduled\",profile=\"default-scheduler\"}") >= 2)
            {
                break;
            }

            await Task.Delay(50, timeout.Token);
        }

        var statistics = scheduler.Statistics;
        await scheduler.StopAsync(CancellationToken.None);
        await nodes.StopAsync(CancellationToken.None);

        // Three pods, each with one first attempt (the huge one's retries are not first attempts), each waited a while in the queue.
        Assert.Equal(3, statistics.FirstAttempts);
        Assert.InRange(statistics.QueueWait, TimeSpan.Zero, TimeSpan.FromSeconds(90));
        Assert.True(Delta("scheduler_schedule_attempts_total{result=\"scheduled\",profile=\"default-scheduler\"}") >= 2);
        Assert.True(Delta("scheduler_schedule_attempts_total{result=\"unschedulable\",profile=\"default-scheduler\"}") >= 1);
        Assert.True(Delta("scheduler_scheduling_attempt_duration_seconds_count{result=\"scheduled\",profile=\"default-scheduler\"}") >= 2);
        Assert.True(after.ContainsKey("scheduler_scheduling_attempt_duration_seconds_bucket{result=\"scheduled\",profile=\"default-scheduler\",le=\"0.001\"}"));
        Assert.True(after.ContainsKey("scheduler_pending_pods{queue=\"active\"}"));
        Assert.True(after.ContainsKey("scheduler_pending_pods{queue=\"backoff\"}"));
        Assert.True(after.ContainsKey("scheduler_pending_pods{queue=\"gated\"}"));

        double Delta(string series) => Get(after, series) - Get(before, series);
    }

    private static double Get(Dictionary<string, double> samples, string series) => samples.GetValueOrDefault(series);

    /// <summary>Samples of the process registry by their series text (<c>name{labels}</c>).</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await ComponentMetrics.Registry.CollectAndExportAsTextAsync(stream, CancellationToken.None);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
