using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>A Job made with the real kubectl runs its busybox command to completion on a real node.</summary>
[Collection(NodeCollection.Name)]
public sealed class JobEndToEndTests(NodeFixture fixture)
{
    private Kubectl Kubectl => new(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));

    [KubectlFact]
    public async Task CreateJob_BusyboxCommand_CompletesAndKeepsItsLogs()
    {
        using var stopping = new CancellationTokenSource();
        using var scheduler = new SchedulerService(fixture.Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        var controllers = ControllerManager.ControllerManager.RunAsync(fixture.Client, new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, stopping.Token);
        try
        {
            var created = await Kubectl.RunAsync(["create", "job", "hello", "--image=" + NodeFixture.BusyboxImage, "--", "sh", "-c", "echo hello from $(hostname); exit 0"]);
            Assert.True(created.ExitCode == 0, created.Stderr);

            var waited = await Kubectl.RunAsync(["wait", "--for=condition=complete", "job/hello", "--timeout=120s"], timeout: TimeSpan.FromMinutes(3));
            Assert.True(waited.ExitCode == 0, waited.Stdout + waited.Stderr);
            Assert.Equal("job.batch/hello condition met\n", waited.Stdout);

            var status = await Kubectl.RunAsync(["get", "job", "hello", "-o", "jsonpath={.status.succeeded}/{.status.active}/{.status.conditions[?(@.type==\"Complete\")].status}"]);
            Assert.Equal("1//True", status.Stdout);  // zero counts are omitted, as upstream does
            var logs = await Kubectl.RunAsync(["logs", "job/hello"]);
            Assert.StartsWith("hello from hello-", logs.Stdout, StringComparison.Ordinal);
            var pod = Assert.Single((await fixture.Client.Resource<Pod>().ListAsync("default", new Kubesharp.Client.ListOptions { LabelSelector = "batch.kubernetes.io/job-name=hello" })).Items);
            Assert.Equal("Succeeded", pod.Status!.Phase);
            Assert.Equal(0, pod.Status.ContainerStatuses![0].State!.Terminated!.ExitCode);
            Assert.DoesNotContain("batch.kubernetes.io/job-tracking", pod.Metadata!.Finalizers ?? []);
        }
        finally
        {
            await Kubectl.RunAsync(["delete", "job", "hello", "--ignore-not-found", "--wait=true", "--cascade=foreground", "--timeout=60s"], timeout: TimeSpan.FromMinutes(2));

            // The node tears the pod's sandbox down after the pod is gone: wait for it (bounded) before the next test.
            for (var i = 0; i < 120 && (await fixture.Agent.Runtime!.Runtime.ListPodSandboxAsync()).Any(s => s.Metadata?.Name?.StartsWith("hello-", StringComparison.Ordinal) == true); i++)
            {
                await Task.Delay(500);
            }

            await stopping.CancelAsync();
            await controllers;
            await scheduler.StopAsync(CancellationToken.None);
        }
    }
}
