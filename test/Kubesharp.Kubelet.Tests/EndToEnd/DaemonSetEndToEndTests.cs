using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>A DaemonSet applied with the real kubectl runs its pod on the real node (containerd), and a new image rolls it.</summary>
[Collection(NodeCollection.Name)]
public sealed class DaemonSetEndToEndTests(NodeFixture fixture)
{
    private const string UpdatedImage = "docker.io/kubesharp/busybox:daemon-2";

    private Kubectl Kubectl => new(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));

    private static string Manifest(string image) => $$"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: default
        spec:
          selector:
            matchLabels: {app: agent}
          template:
            metadata:
              labels: {app: agent}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: agent
                image: {{image}}
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "echo running on $(hostname); trap 'exit 0' TERM; while true; do sleep 1; done"]
        """;

    private async Task<KubectlResult> RunAsync(params string[] args) => await RunWithInputAsync(args, null);

    private async Task<KubectlResult> RunWithInputAsync(string[] args, string? stdin)
    {
        var result = await Kubectl.RunAsync(args, stdin, TimeSpan.FromMinutes(4));
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result.Stdout}{result.Stderr}");
        return result;
    }

    /// <summary>The DaemonSet's one pod, once it is Running with the image, and its running container in containerd.</summary>
    private async Task<Pod> RunningPodAsync(string image)
    {
        var pods = (await fixture.Client.Resource<Pod>().ListAsync("default", new Kubesharp.Client.ListOptions { LabelSelector = "app=agent" })).Items
            .Where(p => p.Metadata?.DeletionTimestamp is null).ToList();
        var pod = Assert.Single(pods);
        Assert.Equal(fixture.NodeName, pod.Spec!.NodeName);
        Assert.Equal(image, pod.Spec.Containers![0].Image);
        Assert.Equal("Running", pod.Status!.Phase);
        var containers = await fixture.Agent.Runtime!.Runtime.ListContainersAsync(new ContainerFilter { State = new ContainerStateValue { State = Kubesharp.Cri.V1.ContainerState.ContainerRunning } });
        Assert.Contains(containers, c => c.Labels.TryGetValue("io.kubernetes.pod.name", out var name) && name == pod.Metadata!.Name);
        return pod;
    }

    [KubectlFact]
    public async Task DaemonSet_RunsItsPodOnTheNode_AndAnImageUpdateRollsIt()
    {
        Assert.Null(fixture.SkipReason);
        var updated = await OciImageBuilder.BuildBusyboxAsync(UpdatedImage, [], ["sh"]);
        var archive = Path.Combine(fixture.Root, "busybox-daemon-2.oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [updated]);
        await new ContainerdImageImporter(fixture.Agent.Runtime!.Supervisor!.Layout.Socket).ImportAndWaitAsync(archive, fixture.Agent.Runtime.Images, TimeProvider.System);

        using var stopping = new CancellationTokenSource();
        using var scheduler = new SchedulerService(fixture.Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        var controllers = ControllerManager.ControllerManager.RunAsync(fixture.Client, new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, stopping.Token);
        try
        {
            // The bare API server of this fixture serves no OpenAPI document for kubectl to validate against.
            await RunWithInputAsync(["apply", "--validate=false", "-f", "-"], Manifest(NodeFixture.BusyboxImage));
            var status = await RunAsync("rollout", "status", "daemonset/agent", "--timeout=180s");
            Assert.Contains("daemon set \"agent\" successfully rolled out", status.Stdout, StringComparison.Ordinal);
            var first = await RunningPodAsync(NodeFixture.BusyboxImage);
            var logs = await RunAsync("logs", "daemonset/agent");
            Assert.StartsWith("running on agent-", logs.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"agent\s+1\s+1\s+1\s+1\s+1\s+<none>\s", (await RunAsync("get", "daemonset", "agent")).Stdout);

            await RunAsync("set", "image", "daemonset/agent", "agent=" + UpdatedImage);
            await RunAsync("rollout", "status", "daemonset/agent", "--timeout=180s");
            await RunAsync("wait", "--for=delete", "pod/" + first.Metadata!.Name, "--timeout=120s");
            var second = await RunningPodAsync(UpdatedImage);
            Assert.NotEqual(first.Metadata.Uid, second.Metadata!.Uid);
            var history = (await RunAsync("rollout", "history", "daemonset/agent")).Stdout;
            Assert.Matches(@"(?m)^1\s+<none>$", history);
            Assert.Matches(@"(?m)^2\s+<none>$", history);
        }
        finally
        {
            await Kubectl.RunAsync(["delete", "daemonset", "agent", "--ignore-not-found", "--wait=true", "--cascade=foreground", "--timeout=60s"], timeout: TimeSpan.FromMinutes(2));

            // The node tears the pods' sandboxes (and their containers) down after the pods are gone: wait for it (bounded).
            for (var i = 0; i < 120 && (await fixture.Agent.Runtime!.Runtime.ListPodSandboxAsync()).Any(s => s.Metadata?.Name?.StartsWith("agent-", StringComparison.Ordinal) == true); i++)
            {
                await Task.Delay(500);
            }

            await stopping.CancelAsync();
            await controllers;
            await scheduler.StopAsync(CancellationToken.None);
            await fixture.Agent.Runtime!.Images.RemoveImageAsync(new ImageSpec { Image = UpdatedImage });
        }
    }
}
