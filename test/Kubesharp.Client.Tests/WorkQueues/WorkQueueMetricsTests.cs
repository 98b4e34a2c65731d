using System.Globalization;
using Kubesharp.ApiMachinery.Metrics;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;

namespace Kubesharp.Client.Tests.WorkQueues;

public sealed class WorkQueueMetricsTests
{
    private readonly string _name = "queue-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task WorkQueue_NamedByItsWorker_ReportsAddsDepthDurationsAndRetries()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
        var failures = 1;
        var worker = new ReconcileWorker(_name, queue, (key, _) =>
        {
            if (failures-- > 0)
            {
                time.Advance(TimeSpan.FromSeconds(3));
                throw new InvalidOperationException("the first reconcile fails after three seconds");
            }

            return Task.FromResult(ReconcileResult.Done);
        });
        Assert.Equal(_name, queue.Metrics!.Name);

        queue.Add("a");
        queue.Add("a");
        queue.Add("b");
        Assert.Equal(2, await ValueAsync("workqueue_adds_total"));
        Assert.Equal(2, await ValueAsync("workqueue_depth"));

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));
        Assert.Equal(1, await ValueAsync("workqueue_depth"));
        Assert.Equal(1, await ValueAsync("workqueue_queue_duration_seconds_count"));
        Assert.Equal(2, await ValueAsync("workqueue_queue_duration_seconds_sum"));
        Assert.Equal(1, await ValueAsync("workqueue_work_duration_seconds_count"));
        Assert.Equal(3, await ValueAsync("workqueue_work_duration_seconds_sum"));
        // The failure was re-added rate-limited: a retry.
        Assert.Equal(1, await ValueAsync("workqueue_retries_total"));

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));
        Assert.Equal(0, await ValueAsync("workqueue_depth"));
        Assert.Equal(2, await ValueAsync("workqueue_queue_duration_seconds_count"));
        Assert.Equal(2 + 5, await ValueAsync("workqueue_queue_duration_seconds_sum"));

        // The retry comes back after its backoff and counts as an add again.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, await ValueAsync("workqueue_adds_total"));
        Assert.Equal(1, await ValueAsync("workqueue_depth"));
    }

    /// <summary>The sample of this queue's series in the process registry's exposition.</summary>
    private async Task<double> ValueAsync(string name)
    {
        using var stream = new MemoryStream();
        await ComponentMetrics.Registry.CollectAndExportAsTextAsync(stream, CancellationToken.None);
        var prefix = $"{name}{{name=\"{_name}\"}} ";
        var line = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n').SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.NotNull(line);
        return double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }
}
