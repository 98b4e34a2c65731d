using System.Text;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Dns;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// Services end to end on real containerd: a Deployment behind a Service, reached by DNS name from a client
/// pod and through the ClusterIP and a NodePort from the node, then scaled down.
/// </summary>
[Collection(ServiceNetworkCollection.Name)]
public sealed class ServiceNetworkEndToEndTests(ServiceNetworkFixture fixture)
{
    private const string Ns = "shop";
    private const int Attempts = 60;
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);

    [RuntimeFact]
    public async Task Service_ThreeReplicasThenOne_ReachedByDnsClusterIpAndNodePort()
    {
        var client = fixture.Client;
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = Ns } });
        await client.Resource<Deployment>().CreateAsync(WebDeployment(3));
        var web = await client.Resource<Service>().CreateAsync(new Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = new ObjectMeta { Name = "web", Namespace = Ns },
            Spec = new ServiceSpec
            {
                Type = "NodePort",
                Selector = new() { ["app"] = "web" },
                Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = 8080 }],
            },
        });
        await client.Resource<Service>().CreateAsync(new Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = new ObjectMeta { Name = "web-headless", Namespace = Ns },
            Spec = new ServiceSpec
            {
                ClusterIP = "None",
                Selector = new() { ["app"] = "web" },
                Ports = [new ServicePort { Name = "http", Port = 8080 }],
            },
        });
        await client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new ObjectMeta { Name = "client", Namespace = Ns },
            Spec = new PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                Containers = [new Container { Name = "client", Image = ServiceNetworkFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }],
            },
        });

        var replicas = await WaitAsync("3 ready web replicas", async ct =>
        {
            var pods = await WebPodsAsync(ct);
            return pods.Count == 3 && pods.All(IsReady) ? pods : null;
        });
        var names = replicas.Select(p => p.Metadata!.Name!).ToHashSet(StringComparer.Ordinal);
        var clientPod = await WaitAsync("a running client pod", async ct =>
        {
            var pod = await client.Resource<Pod>().GetAsync(Ns, "client", ct);
            return pod.Status?.ContainerStatuses is [{ Ready: true, ContainerID: { } }] ? pod : null;
        });
        var clientContainer = clientPod.Status!.ContainerStatuses![0].ContainerID!["containerd://".Length..];

        // The pod's resolv.conf points at cluster DNS with the namespace's search path.
        var resolvConf = await ExecAsync(clientContainer, "cat /etc/resolv.conf");
        Assert.Contains($"nameserver {fixture.ServiceCidr.DnsServiceIp}\n", resolvConf, StringComparison.Ordinal);
        var domain = fixture.ClusterDomain;
        Assert.Contains($"search {Ns}.svc.{domain} svc.{domain} {domain}", resolvConf, StringComparison.Ordinal);
        Assert.Contains("options ndots:5", resolvConf, StringComparison.Ordinal);

        // Every replica answers through the ClusterIP, then by full and by short name.
        Assert.Equal(names, await AnswersFromPodAsync(clientContainer, $"http://{web.Spec!.ClusterIP}", names));
        Assert.Equal(names, await AnswersFromPodAsync(clientContainer, $"http://web.{Ns}.svc.{domain}", names));
        Assert.Equal(names, await AnswersFromPodAsync(clientContainer, "http://web", names));

        // Cluster names resolve: the kubernetes Service and every pod behind the headless Service.
        var kubernetes = await ExecAsync(clientContainer, $"nslookup kubernetes.default.svc.{domain}");
        Assert.Contains(fixture.ServiceCidr.KubernetesServiceIp.ToString(), kubernetes, StringComparison.Ordinal);
        var kubeDns = await ExecAsync(clientContainer, $"nslookup {ClusterDnsService.Name}.{ClusterDnsService.Namespace}");
        Assert.Contains(fixture.ServiceCidr.DnsServiceIp.ToString(), kubeDns, StringComparison.Ordinal);
        var headless = await ExecAsync(clientContainer, $"nslookup web-headless.{Ns}.svc.{domain}");
        Assert.All(replicas, p => Assert.Contains(p.Status!.PodIP!, headless, StringComparison.Ordinal));

        // The node reaches the ClusterIP and the NodePort on its own address.
        var nodePort = web.Spec!.Ports![0].NodePort!.Value;
        Assert.Equal(names, await AnswersFromNodeAsync(new Uri($"http://{web.Spec.ClusterIP}/"), names));
        Assert.Equal(names, await AnswersFromNodeAsync(new Uri($"http://{fixture.NodeIp}:{nodePort}/"), names));

        // Scaled to one, only the remaining replica answers once the rules follow.
        await client.Resource<Deployment>().PatchAsync(Ns, "web", PatchType.Merge, "{\"spec\":{\"replicas\":1}}");
        var survivor = await WaitAsync("one web replica left", async ct =>
        {
            var pods = await WebPodsAsync(ct);
            return pods.Count == 1 && IsReady(pods[0]) ? pods[0] : null;
        });
        await WaitAsync("the service rules to hold one endpoint", async ct =>
        {
            var rules = await fixture.NatRulesAsync();
            var endpoints = rules.Split('\n').Count(l => l.Contains($"{Ns}/web:http -> ", StringComparison.Ordinal));
            return endpoints == 1 && rules.Contains($"{Ns}/web:http -> {survivor.Status!.PodIP}:8080", StringComparison.Ordinal) ? rules : null;
        });
        var after = await ExecAsync(clientContainer, $"for i in $(seq 1 20); do timeout 5 wget -qO- http://web.{Ns}.svc.{domain}; done");
        var answers = after.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(20, answers.Length);
        Assert.All(answers, a => Assert.Equal(survivor.Metadata!.Name, a));

        await client.Resource<Namespace>().DeleteAsync(null, Ns);
    }

    [RuntimeFact]
    public async Task KubernetesService_FromPod_ReachesApiServer()
    {
        const string ns = "api-reach";
        var client = fixture.Client;
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = ns } });
        await client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new ObjectMeta { Name = "client", Namespace = ns },
            Spec = new PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                Containers = [new Container { Name = "client", Image = ServiceNetworkFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }],
            },
        });
        var slice = await WaitAsync("the kubernetes EndpointSlice", async ct =>
        {
            try
            {
                return await client.Resource<EndpointSlice>().GetAsync("default", "kubernetes", ct);
            }
            catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsNotFound())
            {
                return null;
            }
        });
        Assert.Equal(fixture.NodeIp, Assert.Single(Assert.Single(slice.Endpoints!).Addresses!));
        Assert.Equal("kubernetes", slice.Metadata!.Labels![ServiceProxyModelLabel]);
        var pod = await WaitAsync("a running client pod", async ct =>
        {
            var p = await client.Resource<Pod>().GetAsync(ns, "client", ct);
            return p.Status?.ContainerStatuses is [{ Ready: true, ContainerID: { } }] ? p : null;
        });
        var container = pod.Status!.ContainerStatuses![0].ContainerID!["containerd://".Length..];

        // The API server answers TLS through the Service's cluster IP (and by name). busybox's own TLS cannot finish
        // a handshake with the server's ECDSA certificate, so the server's handshake alert counts as its answer too;
        // without the Service's rules the connection would go nowhere (the service CIDR is a blackhole here).
        var url = $"https://{fixture.ServiceCidr.KubernetesServiceIp}/version";
        var last = "";
        string answer;
        try
        {
            answer = await WaitAsync("an answer from the API server through the kubernetes Service", async _ =>
            {
                last = await ExecAsync(container, $"timeout 10 wget -S -qO- --no-check-certificate {url} 2>&1");
                return TlsAnswered(last) ? last : null;
            });
        }
        catch (TimeoutException)
        {
            var rules = string.Join('\n', (await fixture.NatRulesAsync()).Split('\n').Where(l => l.Contains("default/kubernetes", StringComparison.Ordinal)));
            var direct = await ExecAsync(container, $"timeout 10 wget -S -qO- --no-check-certificate https://{fixture.NodeIp}:{fixture.Server.Url.Port}/version 2>&1");
            Assert.Fail($"no answer through the kubernetes Service; last: {last}\nrules:\n{rules}\ndirect to the node: {direct}");
            throw;
        }

        Assert.Matches(ApiAnswer, answer);
        var byName = await ExecAsync(container, "timeout 10 wget -S -qO- --no-check-certificate https://kubernetes.default.svc/version 2>&1");
        Assert.Matches(ApiAnswer, byName);

        await client.Resource<Namespace>().DeleteAsync(null, ns);
    }

    private const string ServiceProxyModelLabel = "kubernetes.io/service-name";

    private const string ApiAnswer = "HTTP/1.1 (200|401|403)|TLS error from peer";

    private static bool TlsAnswered(string output) => System.Text.RegularExpressions.Regex.IsMatch(output, ApiAnswer);

    [RuntimeFact]
    public async Task ClusterDns_AgentRunning_LinkHoldsDnsAddress()
    {
        var started = await WaitAsync("the DNS link", _ => Task.FromResult(System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(i => i.Name == fixture.DnsLink)));
        Assert.Contains(started.GetIPProperties().UnicastAddresses, a => a.Address.Equals(fixture.ServiceCidr.DnsServiceIp));
    }

    private static Deployment WebDeployment(int replicas) => new()
    {
        ApiVersion = "apps/v1", Kind = "Deployment",
        Metadata = new ObjectMeta { Name = "web", Namespace = Ns },
        Spec = new DeploymentSpec
        {
            Replicas = replicas,
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } },
            Template = new PodTemplateSpec
            {
                Metadata = new ObjectMeta { Labels = new() { ["app"] = "web" } },
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
                            Command = ["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"],
                            Ports = [new ContainerPort { ContainerPortValue = 8080 }],
                            ReadinessProbe = new Probe { HttpGet = new HTTPGetAction { Port = 8080, Path = "/" }, PeriodSeconds = 1 },
                        },
                    ],
                },
            },
        },
    };

    private static bool IsReady(Pod pod) => pod.Metadata?.DeletionTimestamp is null && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private async Task<List<Pod>> WebPodsAsync(CancellationToken cancellationToken) =>
        [.. (await fixture.Client.Resource<Pod>().ListAsync(Ns, new ListOptions { LabelSelector = "app=web" }, cancellationToken)).Items];

    private async Task<string> ExecAsync(string containerId, string script)
    {
        var result = await fixture.Agent.Kubelet.Runtime!.Runtime.ExecSyncAsync(containerId, ["sh", "-c", script], TimeSpan.FromSeconds(120));
        return result.Stdout.ToStringUtf8() + result.Stderr.ToStringUtf8();
    }

    /// <summary>Asks the URL from the client pod until every expected replica has answered (or the attempts run out).</summary>
    private async Task<HashSet<string>> AnswersFromPodAsync(string containerId, string url, IReadOnlySet<string> expected)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < Attempts / 10 && !expected.IsSubsetOf(seen); round++)
        {
            var output = await ExecAsync(containerId, $"for i in $(seq 1 10); do timeout 5 wget -qO- {url}; done");
            seen.UnionWith(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return seen;
    }

    private static async Task<HashSet<string>> AnswersFromNodeAsync(Uri uri, IReadOnlySet<string> expected)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.ConnectionClose = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; attempt < Attempts && !expected.IsSubsetOf(seen); attempt++)
        {
            try
            {
                seen.Add((await http.GetStringAsync(uri)).Trim());
            }
            catch (HttpRequestException)
            {
                seen.Add("error");
            }
        }

        return seen;
    }

    private static async Task<T> WaitAsync<T>(string what, Func<CancellationToken, Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        try
        {
            while (true)
            {
                if (await probe(timeout.Token) is { } value)
                {
                    return value;
                }

                await Task.Delay(250, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }
    }
}
