using System.Text;
using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Cri.V1;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

[Collection(NodeCollection.Name)]
public sealed class KubeletEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task Register_AgentStarted_NodeReadyWithCapacityAndLease()
    {
        var node = await WaitNodeAsync(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);

        Assert.Equal(fixture.Options.PodCidr, node.Spec?.PodCIDR);
        Assert.Equal(new Quantity(110), node.Status!.Capacity!["pods"]);
        Assert.True(node.Status.Capacity["cpu"].Value() > 0);
        Assert.StartsWith("containerd://", node.Status.NodeInfo!.ContainerRuntimeVersion, StringComparison.Ordinal);
        Assert.Contains(node.Status.Addresses!, a => a.Type == "InternalIP" && a.Address == "127.0.0.1");
        var lease = await fixture.Client.Resource<Lease>().GetAsync("kube-node-lease", fixture.NodeName);
        Assert.Equal(fixture.NodeName, lease.Spec?.HolderIdentity);
    }

    [RuntimeFact]
    public async Task Sync_PodWithInitEnvVolumesAndLimit_ServesHttpOnPodIp()
    {
        await fixture.Client.Resource<Secret>().CreateAsync(new Secret
        {
            ApiVersion = "v1", Kind = "Secret",
            Metadata = new ObjectMeta { Name = "web-secret", Namespace = Ns },
            Data = new() { ["password"] = Encoding.UTF8.GetBytes("s3cret") },
        });
        await fixture.Client.Resource<ConfigMap>().CreateAsync(new ConfigMap
        {
            ApiVersion = "v1", Kind = "ConfigMap",
            Metadata = new ObjectMeta { Name = "web-config", Namespace = Ns },
            Data = new() { ["greeting"] = "hello-from-configmap" },
        });
        var pod = NewPod("web", new Container
        {
            Name = "httpd",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "echo \"$POD_NAME $PASSWORD $(cat /config/greeting) $(cat /work/init.txt)\" > /work/index.html && echo serving && exec httpd -f -p 8080 -h /work"],
            Env =
            [
                new EnvVar { Name = "POD_NAME", ValueFrom = new EnvVarSource { FieldRef = new ObjectFieldSelector { FieldPath = "metadata.name" } } },
                new EnvVar { Name = "PASSWORD", ValueFrom = new EnvVarSource { SecretKeyRef = new SecretKeySelector { Name = "web-secret", Key = "password" } } },
            ],
            VolumeMounts = [new VolumeMount { Name = "work", MountPath = "/work" }, new VolumeMount { Name = "config", MountPath = "/config" }],
            Resources = new ResourceRequirements { Limits = new() { ["memory"] = Quantity.Parse("64Mi") } },
        });
        pod.Spec!.InitContainers =
        [
            new Container
            {
                Name = "init", Image = NodeFixture.BusyboxImage, ImagePullPolicy = "Never",
                Command = ["sh", "-c", "echo initialized > /work/init.txt"],
                VolumeMounts = [new VolumeMount { Name = "work", MountPath = "/work" }],
            },
        ];
        pod.Spec.Volumes =
        [
            new Volume { Name = "work", EmptyDir = new EmptyDirVolumeSource() },
            new Volume { Name = "config", ConfigMap = new ConfigMapVolumeSource { Name = "web-config" } },
        ];
        await fixture.Client.Resource<Pod>().CreateAsync(pod);

        var running = await WaitPodAsync("web", p => p.Status?.Phase == "Running" && IsReady(p));

        Assert.Equal("Burstable", running.Status!.QosClass);
        Assert.Contains(running.Status.Conditions!, c => c.Type == "Initialized" && c.Status == "True");
        Assert.Equal("Completed", running.Status.InitContainerStatuses![0].State?.Terminated?.Reason);
        var podIp = running.Status.PodIP!;
        var body = await GetWithRetryAsync(new Uri($"http://{podIp}:8080/index.html"));
        Assert.Equal("web s3cret hello-from-configmap initialized\n", body);

        var containerId = running.Status.ContainerStatuses![0].ContainerID!["containerd://".Length..];
        var limit = await fixture.Agent.Runtime!.Runtime.ExecSyncAsync(containerId, ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"], TimeSpan.FromSeconds(30));
        Assert.Equal((64 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), limit.Stdout.ToStringUtf8().Trim());

        var logs = await GetLogsAsync("web", "httpd", "timestamps=true");
        Assert.Contains(" serving\n", logs, StringComparison.Ordinal);
        await DeletePodAsync("web");
    }

    [RuntimeFact]
    public async Task Probe_ReadinessFileAppears_PodTurnsReady()
    {
        var pod = NewPod("gated", Sleeper("app"));
        pod.Spec!.Containers![0].ReadinessProbe = new Probe
        {
            Exec = new ExecAction { Command = ["test", "-f", "/tmp/ready"] },
            PeriodSeconds = 1,
        };
        await fixture.Client.Resource<Pod>().CreateAsync(pod);
        var running = await WaitPodAsync("gated", p => p.Status?.Phase == "Running");
        Assert.False(IsReady(running));

        var containerId = running.Status!.ContainerStatuses![0].ContainerID!["containerd://".Length..];
        await fixture.Agent.Runtime!.Runtime.ExecSyncAsync(containerId, ["touch", "/tmp/ready"], TimeSpan.FromSeconds(30));

        var ready = await WaitPodAsync("gated", IsReady);
        Assert.True(ready.Status!.ContainerStatuses![0].Ready);
        await DeletePodAsync("gated");
    }

    [RuntimeFact]
    public async Task Probe_LivenessFails_ContainerRestarted()
    {
        var pod = NewPod("unhealthy", Sleeper("app"));
        pod.Spec!.Containers![0].LivenessProbe = new Probe
        {
            Exec = new ExecAction { Command = ["test", "-f", "/tmp/never"] },
            PeriodSeconds = 1,
            FailureThreshold = 1,
        };
        pod.Spec.TerminationGracePeriodSeconds = 1;
        await fixture.Client.Resource<Pod>().CreateAsync(pod);

        var restarted = await WaitPodAsync("unhealthy", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.RestartCount >= 1);

        Assert.NotNull(restarted.Status!.ContainerStatuses![0].LastState?.Terminated);
        await DeletePodAsync("unhealthy");
    }

    [RuntimeFact]
    public async Task Sync_TwentyPods_AllRunning()
    {
        var names = Enumerable.Range(0, 20).Select(i => $"many-{i}").ToList();
        await Task.WhenAll(names.Select(n => fixture.Client.Resource<Pod>().CreateAsync(NewPod(n, Sleeper("app")))));

        foreach (var name in names)
        {
            await WaitPodAsync(name, p => p.Status?.Phase == "Running", TimeSpan.FromMinutes(4));
        }

        await Task.WhenAll(names.Select(DeletePodAsync));
        var sandboxes = await fixture.Agent.Runtime!.Runtime.ListPodSandboxAsync();
        Assert.DoesNotContain(sandboxes, s => s.Metadata.Name.StartsWith("many-", StringComparison.Ordinal));
    }

    [RuntimeFact]
    public async Task Restart_AgentRestarted_ContainersAdoptedNotRestarted()
    {
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("survivor", Sleeper("app")));
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("doomed", Sleeper("app")));
        var before = await WaitPodAsync("survivor", p => p.Status?.Phase == "Running" && IsReady(p));
        await WaitPodAsync("doomed", p => p.Status?.Phase == "Running");
        var containerId = before.Status!.ContainerStatuses![0].ContainerID;

        await fixture.StopAgentAsync();
        // Deleted while the agent is down: with no agent the pod only gets a deletionTimestamp.
        await fixture.Client.Resource<Pod>().DeleteAsync(Ns, "doomed");
        // NotReady, as the node lifecycle controller marks a node whose agent stopped: the restarted agent is up (what a
        // server's readiness waits for) only once it has written Ready again.
        var stopped = await fixture.Client.Resource<Node>().GetAsync(null, fixture.NodeName);
        stopped.Status!.Conditions!.Single(c => c.Type == "Ready").Status = "False";
        await fixture.Client.Resource<Node>().UpdateStatusAsync(stopped);
        Node? whenUp = null;
        await fixture.StartAgentAsync(async () => whenUp = await fixture.Client.Resource<Node>().GetAsync(null, fixture.NodeName));
        Assert.Equal("True", whenUp!.Status!.Conditions!.Single(c => c.Type == "Ready").Status);

        await WaitGoneAsync("doomed");
        var after = await WaitPodAsync("survivor", p => p.Status?.ContainerStatuses?[0].ContainerID == containerId && IsReady(p));
        Assert.Equal(0, after.Status!.ContainerStatuses![0].RestartCount);
        var sandboxes = await fixture.Agent.Runtime!.Runtime.ListPodSandboxAsync();
        Assert.DoesNotContain(sandboxes, s => s.Metadata.Name == "doomed");
        Assert.Single(sandboxes, s => s.Metadata.Name == "survivor");
        await DeletePodAsync("survivor");
    }

    private Pod NewPod(string name, Container container) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new PodSpec { NodeName = fixture.NodeName, Containers = [container], TerminationGracePeriodSeconds = 2 },
    };

    private static Container Sleeper(string name) => new()
    {
        Name = name,
        Image = NodeFixture.BusyboxImage,
        ImagePullPolicy = "Never",
        Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
    };

    private static bool IsReady(Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private async Task<Node> WaitNodeAsync(Func<Node, bool> predicate)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            var node = await fixture.Client.Resource<Node>().GetAsync(null, fixture.NodeName, timeout.Token);
            if (predicate(node))
            {
                return node;
            }

            await Task.Delay(250, timeout.Token);
        }
    }

    private async Task<Pod> WaitPodAsync(string name, Func<Pod, bool> predicate, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? WaitLimit);
        Pod? last = null;
        try
        {
            while (true)
            {
                last = await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token);
                if (predicate(last))
                {
                    return last;
                }

                await Task.Delay(250, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"pod {name} did not reach the expected state; last status: {(last is null ? "none" : Encoding.UTF8.GetString(KubernetesJson.Serialize(last.Status)))}");
        }
    }

    private async Task WaitGoneAsync(string name)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            try
            {
                await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return;
            }

            await Task.Delay(250, timeout.Token);
        }
    }

    private async Task DeletePodAsync(string name)
    {
        await fixture.Client.Resource<Pod>().DeleteAsync(Ns, name);
        await WaitGoneAsync(name);
    }

    private async Task<string> GetLogsAsync(string pod, string container, string query)
    {
        using var handler = new SocketsHttpHandler();
#pragma warning disable CA5359 // the agent's endpoint has a self-signed certificate
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        using var client = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(fixture.Server.Certificates.AdminCertificatePem, fixture.Server.Certificates.AdminKeyPem);
        handler.SslOptions.ClientCertificates = [client];
        using var http = new HttpClient(handler);
        return await http.GetStringAsync(new Uri($"https://127.0.0.1:{fixture.Agent.KubeletPort}/containerLogs/{Ns}/{pod}/{container}?{query}"));
    }

    private static async Task<string> GetWithRetryAsync(Uri uri)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await http.GetStringAsync(uri);
            }
            catch (HttpRequestException) when (attempt < 40)
            {
                await Task.Delay(250);
            }
        }
    }
}
