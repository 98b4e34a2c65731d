using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.CronJobs;
using Kubesharp.ControllerManager.Jobs;

namespace Kubesharp.ControllerManager.Tests.CronJobs;

public sealed class CronJobSyncTests
{
    // Created half a minute past midnight.
    private static readonly DateTimeOffset Created = Objects.Epoch.AddSeconds(30);

    private static CronJob CronJob(string schedule = "*/5 * * * *", string policy = "Allow", string? timeZone = null, long? startingDeadline = null, CronJobStatus? status = null) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "CronJob",
        Metadata = new ObjectMeta { Name = "tick", Namespace = "default", Uid = "cj-uid", CreationTimestamp = Created },
        Spec = new CronJobSpec
        {
            Schedule = schedule,
            TimeZone = timeZone,
            ConcurrencyPolicy = policy,
            StartingDeadlineSeconds = startingDeadline,
            Suspend = false,
            SuccessfulJobsHistoryLimit = 3,
            FailedJobsHistoryLimit = 1,
            JobTemplate = new JobTemplateSpec
            {
                Metadata = new ObjectMeta { Labels = new() { ["app"] = "tick" } },
                Spec = new JobSpec { Template = new PodTemplateSpec { Spec = new PodSpec { RestartPolicy = "Never", Containers = [new Container { Name = "c", Image = "busybox" }] } } },
            },
        },
        Status = status,
    };

    private static Job Job(string name, string? finished = null, DateTimeOffset? started = null, DateTimeOffset? completed = null) => new()
    {
        Metadata = new ObjectMeta
        {
            Name = name,
            Namespace = "default",
            Uid = "uid-" + name,
            OwnerReferences = [new OwnerReference { ApiVersion = "batch/v1", Kind = "CronJob", Name = "tick", Uid = "cj-uid", Controller = true }],
        },
        Status = new JobStatus
        {
            StartTime = started,
            CompletionTime = completed,
            Conditions = finished is null ? null : [new JobCondition { Type = finished, Status = "True", LastTransitionTime = completed }],
        },
    };

    private static CronJobStatus Active(params Job[] jobs) => new() { Active = [.. jobs.Select(CronJobSync.Reference)] };

    [Fact]
    public void Plan_BeforeTheFirstTime_WaitsUntilIt()
    {
        var plan = CronJobSync.Plan(CronJob(), [], Objects.Epoch.AddMinutes(3));

        Assert.Null(plan.Create);
        Assert.Equal(TimeSpan.FromMinutes(2) + CronJobSync.NextScheduleDelta, plan.RequeueAfter);
    }

    [Fact]
    public void Plan_ScheduleTimePassed_CreatesTheJobNamedAfterIt()
    {
        var now = Objects.Epoch.AddMinutes(5).AddSeconds(2);

        var plan = CronJobSync.Plan(CronJob(), [], now);

        var scheduled = Objects.Epoch.AddMinutes(5);
        var job = plan.Create!;
        Assert.Equal($"tick-{scheduled.ToUnixTimeSeconds() / 60}", job.Metadata!.Name);
        Assert.Equal("2026-01-01T00:05:00Z", job.Metadata.Annotations![CronJobSync.ScheduledTimestampAnnotation]);
        Assert.Equal("tick", job.Metadata.Labels!["app"]);
        var owner = Assert.Single(job.Metadata.OwnerReferences!);
        Assert.Equal(("CronJob", "cj-uid", true), (owner.Kind, owner.Uid, owner.Controller == true));
        Assert.Equal("busybox", job.Spec!.Template!.Spec!.Containers![0].Image);
        Assert.Equal(scheduled, plan.Status.LastScheduleTime);
        Assert.Equal(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(2) + CronJobSync.NextScheduleDelta, plan.RequeueAfter);
    }

    [Fact]
    public void Plan_AlreadyStartedForThatTime_CreatesNothing()
    {
        var plan = CronJobSync.Plan(CronJob(status: new CronJobStatus { LastScheduleTime = Objects.Epoch.AddMinutes(5) }), [], Objects.Epoch.AddMinutes(6));

        Assert.Null(plan.Create);
    }

    [Fact]
    public void Plan_ManyMissedTimes_StartsOnlyTheMostRecentAndWarnsPastAHundred()
    {
        var plan = CronJobSync.Plan(CronJob("* * * * *"), [], Objects.Epoch.AddHours(3).AddSeconds(10));

        Assert.Equal(Objects.Epoch.AddHours(3), plan.Status.LastScheduleTime);
        Assert.Contains(plan.Events, e => e.Reason == "TooManyMissedTimes" && e.Type == "Warning");
    }

    [Fact]
    public void Plan_PastTheStartingDeadline_MissesTheSchedule()
    {
        var cronJob = CronJob(startingDeadline: 30, status: new CronJobStatus { LastScheduleTime = Objects.Epoch });

        var late = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddMinutes(5).AddSeconds(31));
        Assert.Null(late.Create);

        var inTime = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddMinutes(5).AddSeconds(29));
        Assert.NotNull(inTime.Create);
    }

    [Fact]
    public void Plan_StartingDeadline_CountsFromTheScheduleTime()
    {
        // Times older than the deadline are not looked at: nothing starts late, and nothing is reported missed.
        var cronJob = CronJob("*/5 * * * *", startingDeadline: 200, status: new CronJobStatus { LastScheduleTime = Objects.Epoch });

        var plan = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddMinutes(5).AddSeconds(201));

        Assert.Null(plan.Create);
        Assert.DoesNotContain(plan.Events, e => e.Reason == "MissSchedule");
        var edge = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddMinutes(5).AddSeconds(199));
        Assert.NotNull(edge.Create);
    }

    [Fact]
    public void Plan_ForbidWithAnActiveJob_SkipsAndSaysSo()
    {
        var running = Job("tick-1");

        var plan = CronJobSync.Plan(CronJob(policy: "Forbid", status: Active(running)), [running], Objects.Epoch.AddMinutes(5).AddSeconds(1));

        Assert.Null(plan.Create);
        var e = Assert.Single(plan.Events);
        Assert.Equal(("Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid"), (e.Type, e.Reason, e.Message));
        Assert.Single(plan.Status.Active!);
    }

    [Fact]
    public void Plan_Replace_DeletesTheActiveJobAndStartsANewOne()
    {
        var running = Job("tick-1");

        var plan = CronJobSync.Plan(CronJob(policy: "Replace", status: Active(running)), [running], Objects.Epoch.AddMinutes(5).AddSeconds(1));

        Assert.Equal("tick-1", Assert.Single(plan.Replace).Metadata!.Name);
        Assert.NotNull(plan.Create);
        Assert.Null(plan.Status.Active);
    }

    [Fact]
    public void Plan_Allow_RunsConcurrently()
    {
        var running = Job("tick-1");

        var plan = CronJobSync.Plan(CronJob(status: Active(running)), [running], Objects.Epoch.AddMinutes(5).AddSeconds(1));

        Assert.NotNull(plan.Create);
        Assert.Empty(plan.Replace);
        Assert.Single(plan.Status.Active!);
    }

    [Fact]
    public void Plan_TimeZone_FiresAtLocalTimeAndAnnotatesInIt()
    {
        // 09:00 in Tokyo is midnight UTC.
        var plan = CronJobSync.Plan(CronJob("0 9 * * *", timeZone: "Asia/Tokyo") with { Metadata = new ObjectMeta { Name = "tick", Namespace = "default", Uid = "cj-uid", CreationTimestamp = Objects.Epoch.AddHours(-1) } }, [], Objects.Epoch.AddSeconds(5));

        Assert.Equal(Objects.Epoch, plan.Status.LastScheduleTime);
        Assert.Equal("2026-01-01T09:00:00+09:00", plan.Create!.Metadata!.Annotations![CronJobSync.ScheduledTimestampAnnotation]);
    }

    [Fact]
    public void Plan_CronTzPrefix_UsesThatZone()
    {
        var cronJob = CronJob("CRON_TZ=Asia/Tokyo 0 9 * * *") with { Metadata = new ObjectMeta { Name = "tick", Namespace = "default", Uid = "cj-uid", CreationTimestamp = Objects.Epoch.AddHours(-1) } };

        var plan = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddSeconds(5));

        Assert.Equal(Objects.Epoch, plan.Status.LastScheduleTime);
        Assert.Equal("2026-01-01T00:00:00Z", plan.Create!.Metadata!.Annotations![CronJobSync.ScheduledTimestampAnnotation]);
    }

    [Theory]
    [InlineData("@hourly", 60)]
    [InlineData("@daily", 24 * 60)]
    [InlineData("30 * * * *", 30)]
    public void Schedule_MacrosAndFields_NextTime(string schedule, int minutes)
    {
        var parsed = CronJobSchedule.TryParse(schedule, null, out var error)!;

        Assert.Null(error);
        Assert.Equal(Objects.Epoch.AddMinutes(minutes), parsed.Next(Objects.Epoch));
    }

    [Theory]
    [InlineData("@every 5m", 5 * 60)]
    [InlineData("@every 1h30m", 90 * 60)]
    [InlineData("@every 1.5s", 1)]
    [InlineData("@every 200ms", 1)]
    public void Schedule_Every_FiresAFixedDelayAfterTheLastWholeSecond(string schedule, int seconds)
    {
        var parsed = CronJobSchedule.TryParse(schedule, null, out var error)!;

        Assert.Null(error);
        Assert.Equal(Objects.Epoch.AddSeconds(seconds), parsed.Next(Objects.Epoch.AddMilliseconds(400)));
    }

    [Fact]
    public void Plan_EverySchedule_StartsTheMostRecentMissedTimeOnly()
    {
        // Created at 00:00:30: every 10 minutes gives 00:10:30, 00:20:30, 00:30:30; at 00:35 the last is due.
        var plan = CronJobSync.Plan(CronJob("@every 10m"), [], Objects.Epoch.AddMinutes(35));

        Assert.Equal(Created.AddMinutes(30), plan.Status.LastScheduleTime);
        Assert.NotNull(plan.Create);
    }

    [Fact]
    public void Schedule_BadEveryDuration_SaysSoAsUpstream()
    {
        Assert.Null(CronJobSchedule.TryParse("@every 5x", null, out var error));

        Assert.Equal("failed to parse duration @every 5x: time: invalid duration \"5x\"", error);
    }

    [Theory]
    [InlineData("not a schedule")]
    [InlineData("* * * *")]
    [InlineData("@every 5 minutes")]
    [InlineData("@fortnightly")]
    [InlineData("CRON_TZ=Nowhere/Land * * * * *")]
    public void Plan_BadSchedule_WarnsUnparseable(string schedule)
    {
        var plan = CronJobSync.Plan(CronJob(schedule), [], Objects.Epoch.AddHours(1));

        Assert.Null(plan.Create);
        Assert.Null(plan.RequeueAfter);
        Assert.Equal(("Warning", "UnparseableSchedule"), (plan.Events[0].Type, plan.Events[0].Reason));
    }

    [Fact]
    public void Plan_Suspended_StartsNothing()
    {
        var cronJob = CronJob() with { Spec = CronJob().Spec! with { Suspend = true } };

        var plan = CronJobSync.Plan(cronJob, [], Objects.Epoch.AddHours(1));

        Assert.Null(plan.Create);
        Assert.Null(plan.RequeueAfter);
    }

    [Fact]
    public void Plan_FinishedJobs_LeaveTheActiveListAndSetLastSuccessfulTime()
    {
        var done = Job("tick-1", JobConditions.Complete, Objects.Epoch, Objects.Epoch.AddMinutes(1));
        var gone = Job("tick-2");

        var plan = CronJobSync.Plan(CronJob(status: Active(done, gone)), [done], Objects.Epoch.AddMinutes(2));

        Assert.Null(plan.Status.Active);
        Assert.Equal(Objects.Epoch.AddMinutes(1), plan.Status.LastSuccessfulTime);
        Assert.Contains(plan.Events, e => e.Reason == "SawCompletedJob" && e.Message == "Saw completed job: tick-1, condition: Complete");
        Assert.Contains(plan.Events, e => e.Reason == "MissingJob" && e.Message == "Active job went missing: tick-2");
    }

    [Fact]
    public void Plan_HistoryLimits_PruneTheOldestFinishedJobs()
    {
        var jobs = Enumerable.Range(0, 5).Select(i => Job($"ok-{i}", JobConditions.Complete, Objects.Epoch.AddMinutes(i), Objects.Epoch.AddMinutes(i)))
            .Concat(Enumerable.Range(0, 3).Select(i => Job($"bad-{i}", JobConditions.Failed, Objects.Epoch.AddMinutes(i), Objects.Epoch.AddMinutes(i))))
            .Append(Job("running"))
            .ToList();

        var plan = CronJobSync.Plan(CronJob(status: Active(jobs[^1])), jobs, Objects.Epoch.AddMinutes(6));

        Assert.Equal(["ok-0", "ok-1", "bad-0", "bad-1"], plan.Prune.Select(j => j.Metadata!.Name));
    }
}
