namespace Kubesharp.E2ETests;

/// <summary>
/// Jobs and CronJobs through the real kubectl against the real server with simulated nodes; pods end as their
/// <c>kubesharp.io/simulated-exit-code</c> annotation says, or as the test reports for them through the status subresource.
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class SimulatedJobTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "j" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    [Fact]
    public async Task IndexedJob_ParallelismThreeWithAFailingIndex_FailsThatIndexAndCompletesTheOthers()
    {
        const string manifest = """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: indexed
            spec:
              completions: 3
              parallelism: 3
              completionMode: Indexed
              backoffLimitPerIndex: 0
              template:
                spec:
                  restartPolicy: Never
                  tolerations:
                  - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                  containers:
                  - name: work
                    image: busybox
            """;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
        (await K("wait", "--for=jsonpath={.status.ready}=3", "job/indexed", "--timeout=60s")).Ok();
        var pods = (await K("get", "pods", "-l", "batch.kubernetes.io/job-name=indexed", "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.spec.hostname}{\"\\n\"}{end}")).Ok().Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        Assert.Equal(["0", "1", "2"], pods.Select(p => p[1]).Order());
        Assert.All(pods, p => Assert.Equal("indexed-" + p[1], p[2]));

        // The pods' node reports index 1 failed and the others done.
        foreach (var pod in pods)
        {
            var (phase, code) = pod[1] == "1" ? ("Failed", 3) : ("Succeeded", 0);
            var finishedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            var status = "{\"status\":{\"phase\":\"" + phase + "\",\"containerStatuses\":[{\"name\":\"work\",\"image\":\"busybox\",\"imageID\":\"\",\"ready\":false,\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":" + code.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"finishedAt\":\"" + finishedAt + "\"}}}]}}";
            (await K("patch", "pod", pod[0], "--subresource=status", "--type=merge", "-p", status)).Ok();
        }

        (await K("wait", "--for=condition=failed", "job/indexed", "--timeout=60s")).Ok();
        var result = (await K("get", "job", "indexed", "-o", "jsonpath={.status.failedIndexes} {.status.completedIndexes} {.status.succeeded} {.status.failed} {.status.conditions[?(@.type==\"Failed\")].reason}")).Ok().Output;
        Assert.Equal("1 0,2 2 1 FailedIndexes", result);
        var table = (await K("get", "job", "indexed")).Ok().Output;
        Assert.Matches(@"indexed\s+Failed\s+2/3\s", table);
        var events = (await K("get", "events", "--field-selector", "involvedObject.name=indexed", "-o", "jsonpath={.items[*].reason}")).Ok().Output;
        Assert.Contains("FailedIndexes", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CronJob_EveryFiveSecondsWithForbid_SkipsWhileItsJobRunsThenStartsTheNext()
    {
        // Pods of the first template run until deleted, so the first Job stays active.
        const string manifest = """
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: ticker
            spec:
              schedule: "@every 5s"
              concurrencyPolicy: Forbid
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      terminationGracePeriodSeconds: 0
                      tolerations:
                      - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                      containers:
                      - {name: tick, image: busybox}
            """;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
        (await K("wait", "--for=jsonpath={.status.active[0].kind}=Job", "cronjob/ticker", "--timeout=60s")).Ok();
        var first = (await K("get", "cronjob", "ticker", "-o", "jsonpath={.status.active[0].name}")).Ok().Output;
        Assert.StartsWith("ticker-", first, StringComparison.Ordinal);

        // The next scheduled times pass while the Job runs: Forbid skips them and says so.
        var skipped = string.Empty;
        for (var i = 0; i < 240 && skipped.Length == 0; i++)
        {
            skipped = (await K("get", "events", "--field-selector", "involvedObject.name=ticker,reason=JobAlreadyActive", "-o", "jsonpath={.items[*].message}")).Ok().Output;
            await Task.Delay(250);
        }

        Assert.Contains("Not starting job because prior execution is running and concurrency policy is Forbid", skipped, StringComparison.Ordinal);
        Assert.Equal(first, (await K("get", "jobs", "-o", "jsonpath={.items[*].metadata.name}")).Ok().Output);

        // The running Job goes and the template now ends at once: the next time starts a Job that completes.
        const string patch = """{"spec":{"jobTemplate":{"spec":{"template":{"metadata":{"annotations":{"kubesharp.io/simulated-exit-code":"0"}}}}}}}""";
        (await K("patch", "cronjob", "ticker", "--type=merge", "-p", patch)).Ok();
        (await K("delete", "job", first, "--wait=true", "--timeout=60s")).Ok();
        (await K("wait", "--for=jsonpath={.status.lastSuccessfulTime}", "cronjob/ticker", "--timeout=60s")).Ok();
        var jobs = (await K("get", "jobs", "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{\"\\n\"}{end}")).Ok().Output;
        Assert.DoesNotContain(first, jobs, StringComparison.Ordinal);
        Assert.Contains("CronJob/ticker", jobs, StringComparison.Ordinal);
        (await K("patch", "cronjob", "ticker", "--type=merge", "-p", """{"spec":{"suspend":true}}""")).Ok();
    }

    [Fact]
    public async Task CreateJobFromCronJob_RunsTheCronJobsTemplateNow()
    {
        // The namespace goes before "--": after it, it would be part of the command.
        (await cluster.KubectlAsync("-n", ns, "create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "true")).Ok();
        const string patch = """{"spec":{"jobTemplate":{"spec":{"template":{"metadata":{"annotations":{"kubesharp.io/simulated-exit-code":"0"}},"spec":{"tolerations":[{"key":"kubesharp.io/simulated","operator":"Exists","effect":"NoSchedule"}]}}}}}}""";
        (await K("patch", "cronjob", "nightly", "--type=merge", "-p", patch)).Ok();
        var defaults = (await K("get", "cronjob", "nightly", "-o", "jsonpath={.spec.concurrencyPolicy} {.spec.suspend} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit}")).Ok().Output;
        Assert.Equal("Allow false 3 1", defaults);

        (await K("create", "job", "manual", "--from=cronjob/nightly")).Ok();
        (await K("wait", "--for=condition=complete", "job/manual", "--timeout=60s")).Ok();

        var job = (await K("get", "job", "manual", "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate} {.status.succeeded}")).Ok().Output;
        Assert.Equal("CronJob/nightly manual 1", job);
        var table = (await K("get", "cronjob", "nightly")).Ok().Output;
        Assert.Matches(@"nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+", table);
    }
}
