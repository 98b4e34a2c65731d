using System.Diagnostics;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Proxy.Iptables;
using Kubesharp.Proxy.NetworkPolicies;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// NetworkPolicies enforced by the node agent on real containerd, between pods of two namespaces on the test's own
/// bridge: default deny, an allow rule by pod and namespace selector on a named port, egress limited by an ipBlock
/// with an exception, and traffic restored when the policies go; the node's readiness probes pass throughout.
/// </summary>
[Collection(ServiceNetworkCollection.Name)]
public sealed class NetworkPolicyEndToEndTests(ServiceNetworkFixture fixture)
{
    private const string ServerNs = "np-server";
    private const string ClientNs = "np-client";
    private const int Attempts = 40;
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);
    private string lastOutput = string.Empty;

    [RuntimeFact]
    public async Task NetworkPolicies_DenyAllowEgressAndRemoval_EnforcedBetweenPods()
    {
        var client = fixture.Client;
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = ServerNs, Labels = new() { ["team"] = "server" } } });
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = ClientNs, Labels = new() { ["team"] = "client" } } });
        try
        {
            await client.Resource<Pod>().CreateAsync(HttpPod(ServerNs, "web", new() { ["app"] = "web" }));
            await client.Resource<Pod>().CreateAsync(HttpPod(ServerNs, "insider", new() { ["role"] = "client" }));
            await client.Resource<Pod>().CreateAsync(HttpPod(ClientNs, "allowed", new() { ["role"] = "client" }));
            await client.Resource<Pod>().CreateAsync(HttpPod(ClientNs, "other", new() { ["role"] = "other" }));
            var web = await ReadyPodAsync(ServerNs, "web");
            var insider = await ReadyPodAsync(ServerNs, "insider");
            var allowed = await ReadyPodAsync(ClientNs, "allowed");
            var other = await ReadyPodAsync(ClientNs, "other");
            var webHttp = $"http://{web.Status!.PodIP}:8080/";
            var webAlt = $"http://{web.Status.PodIP}:9090/";

            // Open before any policy.
            await UntilAsync("the client to reach the server", () => ReachesAsync(allowed, webHttp), expected: true);
            Assert.True(await ReachesAsync(other, webHttp), lastOutput);
            Assert.True(await ReachesAsync(insider, webAlt), lastOutput);

            // Default deny for ingress in the server namespace: every client is cut off, the node's probes are not.
            await client.Resource<NetworkPolicy>().CreateAsync(Policy(ServerNs, "default-deny", new LabelSelector(), new NetworkPolicySpec { PolicyTypes = ["Ingress"] }));
            await UntilAsync("default deny in force", () => ReachesAsync(other, webHttp), expected: false);
            Assert.False(await ReachesAsync(allowed, webHttp), lastOutput);
            Assert.False(await ReachesAsync(insider, webAlt), lastOutput);
            Assert.True(await NodeReachesAsync(webHttp), lastOutput);
            Assert.True(IsReady(await client.Resource<Pod>().GetAsync(ServerNs, "web")));
            Assert.Contains($"{ServerNs}/web ingress", await FilterRulesAsync(), StringComparison.Ordinal);

            // Allow pods labelled role=client in namespaces labelled team=client, on the named port only.
            await client.Resource<NetworkPolicy>().CreateAsync(Policy(ServerNs, "allow-clients", new LabelSelector { MatchLabels = new() { ["app"] = "web" } }, new NetworkPolicySpec
            {
                Ingress =
                [
                    new NetworkPolicyIngressRule
                    {
                        From = [new NetworkPolicyPeer { PodSelector = Labels("role", "client"), NamespaceSelector = Labels("team", "client") }],
                        Ports = [new NetworkPolicyPort { Protocol = "TCP", Port = IntOrString.FromString("http") }],
                    },
                ],
            }));
            await UntilAsync("the allow rule in force", () => ReachesAsync(allowed, webHttp), expected: true);
            Assert.False(await ReachesAsync(allowed, webAlt), lastOutput);
            Assert.False(await ReachesAsync(other, webHttp), lastOutput);
            Assert.False(await ReachesAsync(insider, webHttp), lastOutput);

            // Egress of the allowed client: anywhere but the web pod.
            await client.Resource<NetworkPolicy>().CreateAsync(Policy(ClientNs, "no-web", Labels("role", "client"), new NetworkPolicySpec
            {
                PolicyTypes = ["Egress"],
                Egress = [new NetworkPolicyEgressRule { To = [new NetworkPolicyPeer { IpBlock = new IPBlock { Cidr = "0.0.0.0/0", Except = [$"{web.Status.PodIP}/32"] } }] }],
            }));
            await UntilAsync("the egress rule in force", () => ReachesAsync(allowed, webHttp), expected: false);
            Assert.True(await ReachesAsync(allowed, $"http://{other.Status!.PodIP}:8080/"), lastOutput);
            Assert.True(await ReachesAsync(other, $"http://{allowed.Status!.PodIP}:8080/"), lastOutput);

            // Without the policies, traffic flows again and no pod is isolated.
            await client.Resource<NetworkPolicy>().DeleteAsync(ClientNs, "no-web");
            await client.Resource<NetworkPolicy>().DeleteAsync(ServerNs, "allow-clients");
            await client.Resource<NetworkPolicy>().DeleteAsync(ServerNs, "default-deny");
            await UntilAsync("traffic restored", () => ReachesAsync(other, webHttp), expected: true);
            Assert.True(await ReachesAsync(allowed, webHttp), lastOutput);
            Assert.True(await ReachesAsync(insider, webAlt), lastOutput);
            Assert.DoesNotContain($"{fixture.ChainPrefix}-NWI-", await FilterRulesAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await client.Resource<Namespace>().DeleteAsync(null, ServerNs);
            await client.Resource<Namespace>().DeleteAsync(null, ClientNs);
        }
    }

    [RuntimeFact]
    public async Task NetworkPolicyController_Stopped_LeavesNoRules()
    {
        // A second enforcement for the same node under its own prefix, stopped while it isolates a pod.
        const string ns = "np-stop";
        var prefix = "KSN" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var chains = new NetworkPolicyChains(new IptablesChains(prefix));
        var client = fixture.Client;
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = ns } });
        try
        {
            await client.Resource<Pod>().CreateAsync(HttpPod(ns, "web", new() { ["app"] = "web" }));
            await ReadyPodAsync(ns, "web");
            await client.Resource<NetworkPolicy>().CreateAsync(Policy(ns, "deny", new LabelSelector(), new NetworkPolicySpec()));

            await using (var informers = new SharedInformerFactory(client))
            {
                var controller = new NetworkPolicyController(informers, new NetworkPolicyOptions { NodeName = fixture.Agent.Options.Kubelet.ResolvedNodeName, Chains = chains });
                using var stop = new CancellationTokenSource();
                var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                controller.Synced += () => synced.TrySetResult();
                var run = controller.RunAsync(stop.Token);
                await synced.Task.WaitAsync(WaitLimit);
                await UntilAsync("the pod isolated under the second prefix", async () => (await FilterRulesAsync(prefix)).Contains($"{ns}/web ingress", StringComparison.Ordinal), expected: true);
                await UntilAsync("the jump from FORWARD", async () => (await ForwardRulesAsync()).Contains($"-j {chains.Dispatch}", StringComparison.Ordinal), expected: true);

                await stop.CancelAsync();
                await run.WaitAsync(WaitLimit);
            }

            Assert.Equal(string.Empty, await FilterRulesAsync(prefix));
            Assert.DoesNotContain(chains.Dispatch, await ForwardRulesAsync(), StringComparison.Ordinal);

            // Rules a stopped agent could not remove go with the agent's cleanup of its prefix.
            var rules = NetworkPolicyRuleRenderer.Render(
                [Policy(ns, "deny", new LabelSelector(), new NetworkPolicySpec())],
                [.. (await client.Resource<Pod>().ListAsync(ns)).Items],
                [],
                new NetworkPolicyOptions { Chains = chains });
            var runner = new IptablesRunner(new HostCommand([]), new IptablesChains(prefix));
            await runner.RestoreAsync(rules.Filter, CancellationToken.None);
            await runner.EnsureFirstJumpAsync("filter", "FORWARD", chains.Dispatch, CancellationToken.None);
            Assert.Contains($"{ns}/web ingress", await FilterRulesAsync(prefix), StringComparison.Ordinal);
            await runner.CleanupAsync(CancellationToken.None);
            Assert.Equal(string.Empty, await FilterRulesAsync(prefix));
            Assert.DoesNotContain(chains.Dispatch, await ForwardRulesAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await new IptablesRunner(new HostCommand([]), new IptablesChains(prefix)).CleanupAsync(CancellationToken.None);
            await client.Resource<Namespace>().DeleteAsync(null, ns);
        }
    }

    private static LabelSelector Labels(string key, string value) => new() { MatchLabels = new() { [key] = value } };

    private static NetworkPolicy Policy(string ns, string name, LabelSelector selects, NetworkPolicySpec spec)
    {
        spec.PodSelector = selects;
        return new NetworkPolicy { ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy", Metadata = new ObjectMeta { Namespace = ns, Name = name }, Spec = spec };
    }

    /// <summary>A busybox pod serving its name on 8080 ("http") and 9090 ("alt"), ready once the node reaches it.</summary>
    private static Pod HttpPod(string ns, string name, Dictionary<string, string> labels) => new()
    {
        ApiVersion = "v1", Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = labels },
        Spec = new PodSpec
        {
            TerminationGracePeriodSeconds = 1,
            Containers =
            [
                new Container
                {
                    Name = "httpd",
                    Image = ServiceNetworkFixture.BusyboxImage,
                    ImagePullPolicy = "Never",
                    Command = ["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && httpd -p 9090 -h /tmp/www && exec httpd -f -p 8080 -h /tmp/www"],
                    Ports = [new ContainerPort { Name = "http", ContainerPortValue = 8080 }, new ContainerPort { Name = "alt", ContainerPortValue = 9090 }],
                    ReadinessProbe = new Probe { HttpGet = new HTTPGetAction { Port = 8080, Path = "/" }, PeriodSeconds = 1 },
                },
            ],
        },
    };

    private static bool IsReady(Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private async Task<Pod> ReadyPodAsync(string ns, string name)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            var pod = await fixture.Client.Resource<Pod>().GetAsync(ns, name, timeout.Token);
            if (IsReady(pod) && pod.Status?.PodIP is not null && pod.Status.ContainerStatuses is [{ ContainerID: not null }])
            {
                return pod;
            }

            await Task.Delay(250, timeout.Token);
        }
    }

    /// <summary>Whether a connection from the pod to the URL completes within two seconds.</summary>
    private async Task<bool> ReachesAsync(Pod from, string url)
    {
        var container = from.Status!.ContainerStatuses![0].ContainerID!["containerd://".Length..];
        var result = await fixture.Agent.Kubelet.Runtime!.Runtime.ExecSyncAsync(container, ["sh", "-c", $"timeout 3 wget -qO- {url} >/dev/null && echo reached"], TimeSpan.FromSeconds(30));
        lastOutput = $"{from.Metadata!.Name} -> {url}: {result.Stdout.ToStringUtf8()}{result.Stderr.ToStringUtf8()}";
        return result.Stdout.ToStringUtf8().Contains("reached", StringComparison.Ordinal);
    }

    private static async Task<bool> NodeReachesAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            return (await http.GetAsync(new Uri(url))).IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private async Task UntilAsync(string what, Func<Task<bool>> probe, bool expected)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            if (await probe() == expected)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"timed out waiting for {what} (last: {lastOutput})");
    }

    private Task<string> FilterRulesAsync() => FilterRulesAsync(fixture.ChainPrefix);

    /// <summary>The filter rules and chains under a prefix.</summary>
    private static async Task<string> FilterRulesAsync(string prefix) =>
        string.Join('\n', (await IptablesAsync("iptables-save", "-t", "filter")).Split('\n').Where(l => l.Contains(prefix + "-", StringComparison.Ordinal)));

    private static Task<string> ForwardRulesAsync() => IptablesAsync("iptables", "-w", "5", "-S", "FORWARD");

    private static async Task<string> IptablesAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(arguments[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
