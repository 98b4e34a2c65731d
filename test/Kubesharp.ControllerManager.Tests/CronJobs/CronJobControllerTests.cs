using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Tests;
using Kubesharp.ControllerManager.CronJobs;
using Kubesharp.ControllerManager.Jobs;
using Kubesharp.ControllerManager.Tests.Integration;
using Kubesharp.Scheduler.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using EventV1 = Kubesharp.Api.Core.V1.Event;

namespace Kubesharp.ControllerManager.Tests.CronJobs;

/// <summary>
/// The CronJob controller against a real API server on a fake clock: schedule times are reached by moving the clock,
/// not by waiting, and each reconcile is driven by the test.
/// </summary>
#pragma warning disable CA1001 // disposed through IAsyncLifetime.DisposeAsync
public sealed class CronJobControllerTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly CancellationTokenSource stopping = new();
    private readonly ManualTimeProvider clock = new();
    private TestApiServer server = null!;
    private SharedInformerFactory informers = null!;
    private CronJobController controller = null!;
    private Task recording = Task.CompletedTask;

    private KubernetesClient Client => server.Client;

    public async Task InitializeAsync()
    {
        server = await TestApiServer.StartAsync();
        informers = new SharedInformerFactory(Client);
        var events = new EventRecorder(Client, "kube-controller-manager");
        var context = new ControllerContext(Client, informers, events, new ControllerManagerOptions { LeaderElect = false }, clock, NullLoggerFactory.Instance);
        controller = new CronJobController(context);
        controller.Register();
        informers.Start(stopping.Token);
        recording = events.RunAsync(stopping.Token);
        await informers.WaitForCacheSyncAsync(stopping.Token);
        clock.Advance(DateTimeOffset.UtcNow - clock.GetUtcNow());
    }

    public async Task DisposeAsync()
    {
        await stopping.CancelAsync();
        try
        {
            await recording;
        }
        catch (OperationCanceledException)
        {
        }

        controller.Dispose();
        await informers.DisposeAsync();
        await server.DisposeAsync();
        stopping.Dispose();
    }

    private async Task<Job> SingleJobAsync(string name) => await Client.Resource<Job>().GetAsync("default", name);

    private Task<T> CachedAsync<T>(Func<T?> read, Func<T, bool> condition, string what)
        where T : class =>
        ControllerCluster.EventuallyAsync(() => Task.FromResult(read()!), v => v is not null && condition(v), what);

    [Fact]
    public async Task Reconcile_ForbidOnAFakeClock_StartsOnScheduleAndSkipsWhileAJobRuns()
    {
        var created = await Client.Resource<CronJob>().CreateAsync(new CronJob
        {
            ApiVersion = "batch/v1",
            Kind = "CronJob",
            Metadata = new ObjectMeta { Name = "tick", Namespace = "default" },
            Spec = new CronJobSpec
            {
                Schedule = "*/5 * * * *",
                ConcurrencyPolicy = "Forbid",
                JobTemplate = new JobTemplateSpec
                {
                    Spec = new JobSpec { Template = new PodTemplateSpec { Spec = new PodSpec { RestartPolicy = "OnFailure", Containers = [new Container { Name = "c", Image = "busybox" }] } } },
                },
            },
        });
        Assert.Equal((3, 1, false), (created.Spec!.SuccessfulJobsHistoryLimit, created.Spec.FailedJobsHistoryLimit, created.Spec.Suspend));
        var cronJobs = informers.Lister<CronJob>();
        var jobs = informers.Lister<Job>();
        await CachedAsync(() => cronJobs.Get("default", "tick"), _ => true, "the CronJob in the cache");

        // Nothing is due before the first five-minute mark after creation.
        var result = await controller.ReconcileAsync("default/tick", CancellationToken.None);
        var first = created.Metadata!.CreationTimestamp!.Value;
        first = new DateTimeOffset(first.Year, first.Month, first.Day, first.Hour, first.Minute - (first.Minute % 5), 0, TimeSpan.Zero).AddMinutes(5);
        Assert.Equal(first - clock.GetUtcNow() + CronJobSync.NextScheduleDelta, result.RequeueAfter);
        Assert.Empty((await Client.Resource<Job>().ListAsync("default")).Items);

        clock.Advance(first - clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        await controller.ReconcileAsync("default/tick", CancellationToken.None);
        var name = $"tick-{first.ToUnixTimeSeconds() / 60}";
        var job = await SingleJobAsync(name);
        Assert.Equal(first.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), job.Metadata!.Annotations![CronJobSync.ScheduledTimestampAnnotation]);
        var cronJob = await Client.Resource<CronJob>().GetAsync("default", "tick");
        Assert.Equal(first, cronJob.Status!.LastScheduleTime);
        Assert.Equal(job.Metadata.Uid, Assert.Single(cronJob.Status.Active!).Uid);

        // Five minutes later the first Job still runs: Forbid skips this time.
        await CachedAsync(() => jobs.Get("default", name), _ => true, "the Job in the cache");
        await CachedAsync(() => cronJobs.Get("default", "tick"), c => c.Status?.Active is { Count: 1 }, "the active list in the cache");
        clock.Advance(TimeSpan.FromMinutes(5));
        await controller.ReconcileAsync("default/tick", CancellationToken.None);
        Assert.Single((await Client.Resource<Job>().ListAsync("default")).Items);
        await ControllerCluster.EventuallyAsync(
            async () => (await Client.Resource<EventV1>().ListAsync("default")).Items,
            e => e.Any(x => x.Reason == "JobAlreadyActive"),
            "the JobAlreadyActive event");

        // The Job completes: it leaves the active list, and the time Forbid skipped starts late (no starting deadline).
        var completedAt = clock.GetUtcNow();
        await Client.Resource<Job>().UpdateStatusAsync(job with
        {
            Status = new JobStatus
            {
                StartTime = first,
                CompletionTime = completedAt,
                Succeeded = 1,
                Conditions =
                [
                    new JobCondition { Type = JobConditions.SuccessCriteriaMet, Status = "True", LastTransitionTime = completedAt },
                    new JobCondition { Type = JobConditions.Complete, Status = "True", LastTransitionTime = completedAt },
                ],
            },
        });
        await CachedAsync(() => jobs.Get("default", name), j => JobConditions.IsFinished(j), "the finished Job in the cache");
        await controller.ReconcileAsync("default/tick", CancellationToken.None);
        cronJob = await Client.Resource<CronJob>().GetAsync("default", "tick");
        Assert.Equal(completedAt, cronJob.Status!.LastSuccessfulTime);
        var late = await SingleJobAsync($"tick-{first.AddMinutes(5).ToUnixTimeSeconds() / 60}");
        Assert.Equal(late.Metadata!.Uid, Assert.Single(cronJob.Status.Active!).Uid);
        Assert.Equal(first.AddMinutes(5), cronJob.Status.LastScheduleTime);
        Assert.Equal(2, (await Client.Resource<Job>().ListAsync("default")).Items.Count);
    }
}
