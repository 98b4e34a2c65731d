using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Security;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Tests.Support;
using Xunit.Abstractions;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A cluster of three machines on one link (<see cref="MultiNodeCluster"/>): <c>kubesharp server</c> with its own node
/// and <c>--cluster-cidr 10.99.0.0/16</c>, and two <c>kubesharp agent</c>s that join it, one with a bootstrap token from
/// <c>kubesharp token create</c>, one with the server's token. Every node turns Ready with its own pod range; pods on
/// different nodes reach each other by pod IP and through a Service by its DNS name over the VXLAN overlay; a
/// default-deny NetworkPolicy cuts that traffic and an allow rule by pod and namespace selector re-opens it for the
/// selected client only; an agent whose token pins another CA is refused and never registers.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class MultiNodeEndToEndTests(ITestOutputHelper output)
{
    private const string ClusterCidr = "10.99.0.0/16";
    private const string WebNs = "mn-web";
    private const string ClientNs = "mn-client";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);

    [RuntimeFact]
    public async Task Cluster_ServerAndTwoAgentsOnSeparateHosts_PodsReachAcrossNodesPoliciesApplyWrongCaRefused()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        Assert.True(Kubectl.Available, "kubectl is not on PATH");
        var watch = Stopwatch.StartNew();
        await using var cluster = new MultiNodeCluster();
        try
        {
            await RunAsync(cluster, watch);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n{cluster.Logs()}", e);
        }
    }

    private async Task RunAsync(MultiNodeCluster cluster, Stopwatch watch)
    {
        await cluster.CreateAsync();
        var server = cluster.Start(cluster.Server, "server",
            "server", "--data-dir", cluster.Server.DataDir, "--advertise-address", MultiNodeCluster.ServerAddress, "--cluster-cidr", ClusterCidr,
            "--disable", "ingress", "--disable", "servicelb", "--disable", "local-storage");
        await server.WaitForOutputAsync("ready at", WaitLimit);
        output.WriteLine($"server ready after {watch.Elapsed.TotalSeconds:F0} s");

        // The ways a user joins: a bootstrap token made on the server, and the server's own token.
        var created = await cluster.RunKubesharpAsync(cluster.Server, "token", "create", "--data-dir", cluster.Server.DataDir, "--description", "multinode test");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var bootstrapToken = created.Stdout.Trim();
        var serverToken = (await File.ReadAllTextAsync(Path.Combine(cluster.Server.DataDir, "server", "token"))).Trim();
        var caPem = await File.ReadAllTextAsync(Path.Combine(cluster.Server.DataDir, "server", "tls", "ca.crt"));
        Assert.StartsWith("K10" + JoinToken.CaHash(caPem) + "::", bootstrapToken, StringComparison.Ordinal);

        // A token that pins another CA: the agent refuses the server, exits non-zero and starts nothing.
        var (_, credentials) = JoinToken.Parse(bootstrapToken);
        var wrongToken = JoinToken.Format(OtherCaPem(), credentials);
        var refusedDir = Path.Combine(cluster.Root, "refused");
        var refused = await cluster.RunKubesharpAsync(cluster.Agent1,
            "agent", "--server", cluster.ServerUrl, "--token", wrongToken, "--data-dir", refusedDir, "--node-name", "mn-refused", "--node-ip", cluster.Agent1.Address, "--cluster-cidr", ClusterCidr);
        Assert.True(refused.ExitCode != 0, $"an agent pinning another CA joined: {refused.Stdout}{refused.Stderr}");
        Assert.Contains("refusing to join", refused.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(refusedDir, "containerd")), "the refused agent started its containerd");

        foreach (var (machine, name, token) in new[] { (cluster.Agent1, "mn-agent1", bootstrapToken), (cluster.Agent2, "mn-agent2", serverToken) })
        {
            cluster.Start(machine, name,
                "agent", "--server", cluster.ServerUrl, "--token", token, "--data-dir", machine.DataDir, "--node-name", name, "--node-ip", machine.Address, "--cluster-cidr", ClusterCidr);
        }

        // 1. Three Ready nodes, each with its own slice of the cluster CIDR; the refused agent never registered.
        var nodes = await UntilAsync("three Ready nodes with pod CIDRs", async () =>
        {
            var items = (await cluster.KubectlJsonAsync("get", "nodes"))["items"]!.AsArray();
            return items.Count == 3 && items.All(n => IsReady(n) && n!["spec"]?["podCIDR"] is not null) ? items : null;
        });
        output.WriteLine($"three nodes Ready after {watch.Elapsed.TotalSeconds:F0} s");
        Assert.DoesNotContain(nodes, n => (string?)n!["metadata"]!["name"] == "mn-refused");
        var podCidrs = nodes.ToDictionary(n => (string)n!["metadata"]!["name"]!, n => (string)n!["spec"]!["podCIDR"]!);
        Assert.Equal(3, podCidrs.Values.Distinct(StringComparer.Ordinal).Count());
        var clusterRange = IPNetwork.Parse(ClusterCidr);
        foreach (var cidr in podCidrs.Values)
        {
            Assert.Matches(@"^10\.99\.\d+\.0/24$", cidr);
            Assert.True(clusterRange.Contains(IPNetwork.Parse(cidr).BaseAddress), cidr);
        }

        var serverNode = (string)nodes.Single(n => n!["status"]!["addresses"]!.AsArray().Any(a => (string?)a!["address"] == MultiNodeCluster.ServerAddress))!["metadata"]!["name"]!;

        // The web pod on the first agent; a selected client on the second agent and another client on the server's node.
        await cluster.ApplyAsync(Manifests(serverNode));
        var pods = await UntilAsync("the three pods Ready with addresses", async () =>
        {
            var items = (await cluster.KubectlJsonAsync("get", "pods", "-A", "-l", "kubesharp.test/multinode"))["items"]!.AsArray();
            return items.Count == 3 && items.All(p => IsReady(p) && p!["status"]?["podIP"] is not null) ? items : null;
        });
        output.WriteLine($"pods Ready after {watch.Elapsed.TotalSeconds:F0} s");
        foreach (var pod in pods)
        {
            var node = (string)pod!["spec"]!["nodeName"]!;
            var podIp = IPAddress.Parse((string)pod["status"]!["podIP"]!);
            Assert.True(IPNetwork.Parse(podCidrs[node]).Contains(podIp), $"{pod["metadata"]!["name"]} on {node} has {podIp}, outside {podCidrs[node]}");
        }

        var webIp = (string)pods.Single(p => (string?)p!["metadata"]!["name"] == "web")!["status"]!["podIP"]!;
        var placement = pods.ToDictionary(p => (string)p!["metadata"]!["name"]!, p => (string)p!["spec"]!["nodeName"]!);
        Assert.Equal(new Dictionary<string, string> { ["web"] = "mn-agent1", ["client"] = "mn-agent2", ["stranger"] = serverNode }, placement);
        var byIp = $"http://{webIp}:8080/";
        const string byName = $"http://web.{WebNs}.svc.cluster.local/";

        // 2. Across nodes by pod IP and through the Service's DNS name, from both other nodes.
        await UntilAsync("the client on the second agent to reach the web pod by IP", () => ReachesAsync(cluster, "client", byIp));
        Assert.True(await ReachesAsync(cluster, "client", byName), "the client did not reach the Service by its DNS name");
        Assert.True(await ReachesAsync(cluster, "stranger", byIp), "the server node's pod did not reach the web pod by IP");
        Assert.True(await ReachesAsync(cluster, "stranger", byName), "the server node's pod did not reach the Service by its DNS name");
        output.WriteLine($"cross-node traffic checked after {watch.Elapsed.TotalSeconds:F0} s");

        // 3. Default deny for ingress in the web namespace cuts both clients, by IP and through the Service.
        await cluster.ApplyAsync($$"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: default-deny, namespace: {{WebNs}} }
            spec: {podSelector: {}, policyTypes: [Ingress]}
            """);
        await UntilAsync("default deny to cut the client", async () => !await ReachesAsync(cluster, "client", byIp));
        Assert.False(await ReachesAsync(cluster, "client", byName), "the Service still let the client through");
        Assert.False(await ReachesAsync(cluster, "stranger", byIp), "default deny let the server node's pod through");

        // An allow rule for pods labelled role=client in namespaces labelled team=client re-opens it for that pod only.
        await cluster.ApplyAsync($$"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: allow-clients, namespace: {{WebNs}} }
            spec:
              podSelector: {matchLabels: {app: web} }
              ingress:
              - from:
                - podSelector: {matchLabels: {role: client} }
                  namespaceSelector: {matchLabels: {team: client} }
                ports: [{protocol: TCP, port: http}]
            """);
        await UntilAsync("the allow rule to re-open the client's way", () => ReachesAsync(cluster, "client", byIp));
        Assert.True(await ReachesAsync(cluster, "client", byName), "the allow rule did not re-open the Service for the client");
        Assert.False(await ReachesAsync(cluster, "stranger", byIp), "the allow rule let an unselected pod through");
        Assert.False(await ReachesAsync(cluster, "stranger", byName), "the allow rule let an unselected pod through the Service");
        output.WriteLine($"policies checked after {watch.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// One try of an HTTP GET from a client pod (through <c>kubectl exec</c>, which the server relays to the pod's node):
    /// true when the web pod answered, false when the pod said it could not reach it. An exec that itself fails is tried
    /// again and fails the test at the third time, so a broken exec never passes for blocked traffic.
    /// </summary>
    private static async Task<bool> ReachesAsync(MultiNodeCluster cluster, string pod, string url)
    {
        var failures = new List<string>();
        while (failures.Count < 3)
        {
            var (exitCode, stdout, stderr) = await cluster.KubectlAsync("exec", "-n", ClientNs, pod, "--", "sh", "-c", $"timeout 4 wget -qO- {url} || echo unreachable");
            switch (stdout.Trim())
            {
                case "web" when exitCode == 0:
                    return true;
                case "unreachable" when exitCode == 0:
                    return false;
                default:
                    failures.Add($"exit {exitCode}: {stdout}{stderr}");
                    break;
            }
        }

        Assert.Fail($"kubectl exec in {pod} failed: {string.Join("; ", failures)}");
        return false;
    }

    private static async Task<T> UntilAsync<T>(string what, Func<Task<T?>> probe)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(watch.Elapsed < WaitLimit, $"waited {WaitLimit} for {what}");
            await Task.Delay(500);
        }
    }

    private static Task UntilAsync(string what, Func<Task<bool>> probe) =>
        UntilAsync(what, async () => await probe() ? what : null);

    private static bool IsReady(JsonNode? item) =>
        item?["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Ready" && (string?)c["status"] == "True") == true;

    /// <summary>The PEM of a CA that is not the cluster's.</summary>
    private static string OtherCaPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=another-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return ca.ExportCertificatePem() + "\n";
    }

    private static string Manifests(string serverNode) => $$"""
        apiVersion: v1
        kind: Namespace
        metadata: {name: {{WebNs}}, labels: {team: web, kubesharp.test/multinode: "true"} }
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: {{ClientNs}}, labels: {team: client, kubesharp.test/multinode: "true"} }
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: {{WebNs}}, labels: {app: web, kubesharp.test/multinode: "true"} }
        spec:
          nodeSelector: {kubernetes.io/hostname: mn-agent1}
          terminationGracePeriodSeconds: 1
          containers:
          - name: httpd
            image: {{MultiNodeCluster.BusyboxImage}}
            imagePullPolicy: Never
            command: [sh, -c, "mkdir -p /tmp/www && echo web > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1 }
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: {{WebNs}} }
        spec:
          selector: {app: web}
          ports: [{port: 80, targetPort: http}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: {{ClientNs}}, labels: {role: client, kubesharp.test/multinode: "true"} }
        spec:
          nodeSelector: {kubernetes.io/hostname: mn-agent2}
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: {{MultiNodeCluster.BusyboxImage}}, imagePullPolicy: Never, command: [sleep, "3600"]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: stranger, namespace: {{ClientNs}}, labels: {role: other, kubesharp.test/multinode: "true"} }
        spec:
          nodeSelector: {kubernetes.io/hostname: {{serverNode}} }
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: {{MultiNodeCluster.BusyboxImage}}, imagePullPolicy: Never, command: [sleep, "3600"]}
        """;
}

/// <summary>
/// Three kubesharp processes and three containerds at once: run alone, after the parallel node tests, so that neither
/// they nor this test starve on a two-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiNodeCollection
{
    public const string Name = "multi-node cluster";
}
