using System.Text;
using System.Text.RegularExpressions;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Kubelet.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>The real kubectl against the in-process API server and a real node: logs, exec, attach, port-forward, top.</summary>
[Collection(NodeCollection.Name)]
public sealed partial class KubectlEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    private Kubectl Kubectl => new(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));

    [KubectlFact]
    public async Task Logs_RestartedTicker_PreviousTailTimestampsSinceAndFollow()
    {
        // The first run writes a marker and fails; the restarted container ticks once a second.
        var pod = NewPod("talker", new Container
        {
            Name = "app",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "if [ -f /data/ran ]; then echo second-run; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done; else touch /data/ran; echo first-run; exit 1; fi"],
            VolumeMounts = [new VolumeMount { Name = "data", MountPath = "/data" }],
        });
        pod.Spec!.Volumes = [new Volume { Name = "data", EmptyDir = new EmptyDirVolumeSource() }];
        await fixture.Client.Resource<Pod>().CreateAsync(pod);
        await WaitPodAsync("talker", p => p.Status?.ContainerStatuses?.FirstOrDefault() is { RestartCount: >= 1, State.Running: not null });
        try
        {
            var all = await WaitLogsAsync("talker", "tick-2");
            Assert.StartsWith("second-run\ntick-0\ntick-1\n", all, StringComparison.Ordinal);

            var previous = await Kubectl.RunAsync(["logs", "talker", "--previous"]);
            Assert.Equal((0, "first-run\n"), (previous.ExitCode, previous.Stdout));

            var tail = await Kubectl.RunAsync(["logs", "talker", "-c", "app", "--tail=1"]);
            Assert.Matches("^tick-[0-9]+\n$", tail.Stdout);

            var stamped = await Kubectl.RunAsync(["logs", "talker", "--tail=2", "--timestamps"]);
            Assert.Matches(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick-\d+\n){2}$", stamped.Stdout);

            var since = await Kubectl.RunAsync(["logs", "talker", "--since=1h"]);
            Assert.StartsWith("second-run\n", since.Stdout, StringComparison.Ordinal);

            var wrongContainer = await Kubectl.RunAsync(["logs", "talker", "-c", "nope"]);
            Assert.NotEqual(0, wrongContainer.ExitCode);
            Assert.Contains("container nope is not valid for pod talker", wrongContainer.Stderr, StringComparison.Ordinal);

            // Following: a line written after kubectl started arrives while it keeps running.
            var last = TickNumber(tail.Stdout.Trim());
            using var follow = Kubectl.StartLongRunning(["logs", "-f", "talker"]);
            await follow.WaitForLineAsync(line => line.StartsWith("tick-", StringComparison.Ordinal) && TickNumber(line) > last + 2);
        }
        finally
        {
            await DeletePodAsync("talker");
        }
    }

    [KubectlFact]
    public async Task Exec_PipedStdinAndCommands_OutputAndExitCode()
    {
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("shell", Sleeper("app")));
        await WaitPodAsync("shell", p => p.Status?.Phase == "Running");
        try
        {
            var echoed = await Kubectl.RunAsync(["exec", "-i", "shell", "--", "cat"], stdin: "hi\nthere\n");
            Assert.Equal((0, "hi\nthere\n"), (echoed.ExitCode, echoed.Stdout));

            var listing = await Kubectl.RunAsync(["exec", "shell", "--", "ls", "/"]);
            Assert.Equal(0, listing.ExitCode);
            Assert.Contains("bin\n", listing.Stdout, StringComparison.Ordinal);

            var stderr = await Kubectl.RunAsync(["exec", "shell", "-c", "app", "--", "sh", "-c", "echo oops >&2; exit 3"]);
            Assert.Equal(3, stderr.ExitCode);
            Assert.Contains("oops", stderr.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await DeletePodAsync("shell");
        }
    }

    [KubectlFact]
    public async Task Attach_Ticker_StreamsNewOutput()
    {
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("ticker", new Container
        {
            Name = "app",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "i=0; while true; do echo beat-$i; i=$((i+1)); sleep 1; done"],
        }));
        await WaitPodAsync("ticker", p => p.Status?.Phase == "Running");
        try
        {
            using var attach = Kubectl.StartLongRunning(["attach", "ticker", "-c", "app"]);
            await attach.WaitForLineAsync(line => line.StartsWith("beat-", StringComparison.Ordinal));
        }
        finally
        {
            await DeletePodAsync("ticker");
        }
    }

    [KubectlFact]
    public async Task PortForward_PodAndService_HttpThroughLocalPort()
    {
        var pod = NewPod("web", new Container
        {
            Name = "httpd",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "mkdir -p /www && echo hello-through-the-tunnel > /www/index.html && exec httpd -f -p 8080 -h /www"],
            Ports = [new ContainerPort { Name = "http", ContainerPortValue = 8080 }],
        });
        pod.Metadata!.Labels = new() { ["app"] = "web" };
        await fixture.Client.Resource<Pod>().CreateAsync(pod);
        await fixture.Client.Resource<Service>().CreateAsync(new Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = new ObjectMeta { Name = "web", Namespace = Ns },
            Spec = new ServiceSpec { Selector = new() { ["app"] = "web" }, Ports = [new ServicePort { Port = 80, TargetPort = new IntOrString("http") }] },
        });
        await WaitPodAsync("web", p => p.Status?.Phase == "Running");
        try
        {
            foreach (var (target, remote) in new[] { ("pod/web", "8080"), ("svc/web", "80") })
            {
                using var forward = Kubectl.StartLongRunning(["port-forward", target, ":" + remote]);
                var announced = await forward.WaitForLineAsync(line => line.StartsWith("Forwarding from 127.0.0.1:", StringComparison.Ordinal));
                var port = int.Parse(ForwardedPort().Match(announced).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                Assert.Equal("hello-through-the-tunnel\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html")));
                // A second connection over the same tunnel.
                Assert.Equal("hello-through-the-tunnel\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html")));
            }
        }
        finally
        {
            await fixture.Client.Resource<Service>().DeleteAsync(Ns, "web");
            await DeletePodAsync("web");
        }
    }

    [KubectlFact]
    public async Task PortForward_Kubectl_TunnelsSpdyThroughWebSocket()
    {
        var pod = NewPod("tunnel", new Container
        {
            Name = "httpd",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "mkdir -p /www && echo hello-through-websocket > /www/index.html && exec httpd -f -p 8080 -h /www"],
        });
        await fixture.Client.Resource<Pod>().CreateAsync(pod);
        await WaitPodAsync("tunnel", p => p.Status?.Phase == "Running");
        try
        {
            // -v=6 logs each request with its answer: the WebSocket attempt must be taken, with no SPDY request after it.
            using var forward = Kubectl.StartLongRunning(["port-forward", "-v=6", "pod/tunnel", ":8080"]);
            var announced = await forward.WaitForLineAsync(line => line.StartsWith("Forwarding from 127.0.0.1:", StringComparison.Ordinal));
            var port = int.Parse(ForwardedPort().Match(announced).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("hello-through-websocket\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html")));
            Assert.Equal("hello-through-websocket\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html")));
            var log = forward.Errors;
            Assert.True(UpgradedWebSocket("portforward").IsMatch(log), log);
            Assert.False(SpdyRequest("portforward").IsMatch(log), log);
        }
        finally
        {
            await DeletePodAsync("tunnel");
        }
    }

    [KubectlFact]
    public async Task Exec_WithoutStdin_KubectlTakesWebSocketV5()
    {
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("v5shell", Sleeper("app")));
        await WaitPodAsync("v5shell", p => p.Status?.Phase == "Running");
        try
        {
            var result = await Kubectl.RunAsync(["exec", "-v=6", "v5shell", "--", "sh", "-c", "echo out; echo err >&2; exit 4"]);
            Assert.Equal(4, result.ExitCode);
            Assert.Equal("out\n", result.Stdout);
            Assert.Contains("err\n", result.Stderr, StringComparison.Ordinal);
            Assert.Matches(UpgradedWebSocket("exec"), result.Stderr);
            Assert.DoesNotMatch(SpdyRequest("exec"), result.Stderr);
        }
        finally
        {
            await DeletePodAsync("v5shell");
        }
    }

    private static Regex UpgradedWebSocket(string subresource) => new($@"GET https://\S+/{subresource}(\?\S*)? 101 Switching Protocols");

    private static Regex SpdyRequest(string subresource) => new($@"POST https://\S+/{subresource}(\?|\s)");

    [KubectlFact]
    public async Task Top_NodeAndPod_UsageFromTheAgent()
    {
        await fixture.Client.Resource<Pod>().CreateAsync(NewPod("measured", Sleeper("app")));
        await WaitPodAsync("measured", p => p.Status?.Phase == "Running");
        try
        {
            var node = await Kubectl.RunAsync(["top", "node"]);
            Assert.True(node.ExitCode == 0, node.Stderr);
            Assert.Matches($@"(?m)^{Regex.Escape(fixture.NodeName)}\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$", node.Stdout);

            // Like metrics-server, a pod shows up once a sample of the agent includes it.
            var pods = await Kubectl.RunAsync(["top", "pod", "measured", "--containers"]);
            for (var attempt = 0; pods.ExitCode != 0 && attempt < 15; attempt++)
            {
                await Task.Delay(1000);
                pods = await Kubectl.RunAsync(["top", "pod", "measured", "--containers"]);
            }

            Assert.True(pods.ExitCode == 0, pods.Stderr);
            Assert.Matches(@"(?m)^measured\s+app\s+\d+m\s+\d+Mi\s*$", pods.Stdout);

            var missing = await Kubectl.RunAsync(["top", "pod", "no-such-pod"]);
            Assert.NotEqual(0, missing.ExitCode);
        }
        finally
        {
            await DeletePodAsync("measured");
        }
    }

    [GeneratedRegex(@"127\.0\.0\.1:(\d+)")]
    private static partial Regex ForwardedPort();

    private static int TickNumber(string line) => int.Parse(line["tick-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> WaitLogsAsync(string pod, string expected)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        var last = new KubectlResult(-1, "", "");
        while (!timeout.IsCancellationRequested)
        {
            last = await Kubectl.RunAsync(["logs", pod]);
            if (last.ExitCode == 0 && last.Stdout.Contains(expected, StringComparison.Ordinal))
            {
                return last.Stdout;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"logs of {pod} never showed {expected}; last: {last}");
    }

    private Pod NewPod(string name, Container container) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new PodSpec { NodeName = fixture.NodeName, Containers = [container], TerminationGracePeriodSeconds = 1 },
    };

    private static Container Sleeper(string name) => new()
    {
        Name = name,
        Image = NodeFixture.BusyboxImage,
        ImagePullPolicy = "Never",
        Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
    };

    private async Task<Pod> WaitPodAsync(string name, Func<Pod, bool> predicate)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
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

    private async Task DeletePodAsync(string name)
    {
        await fixture.Client.Resource<Pod>().DeleteAsync(Ns, name);
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
}
