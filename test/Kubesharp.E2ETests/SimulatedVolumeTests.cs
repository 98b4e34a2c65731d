namespace Kubesharp.E2ETests;

/// <summary>
/// A claim on the default <c>local-path</c> class (WaitForFirstConsumer) through the real kubectl against the real
/// <c>kubesharp server --disable-agent --simulated-nodes 5</c>: the scheduler, under its own identity, names the chosen
/// node on the claim, a simulated node's provisioner answers with a volume pinned there, and the pod runs.
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class SimulatedVolumeTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "pv" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    [Fact]
    public async Task ClaimOnDefaultClass_BindsOnThePodsNode_AndThePodRuns()
    {
        const string manifest = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: data
            spec:
              accessModes: [ReadWriteOnce]
              resources:
                requests: {storage: 16Mi}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: user
            spec:
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: c
                image: busybox
                volumeMounts:
                - {name: data, mountPath: /data}
              volumes:
              - name: data
                persistentVolumeClaim: {claimName: data}
            """;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();

        (await K("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=60s")).Ok();
        (await K("wait", "--for=condition=Ready", "pod/user", "--timeout=60s")).Ok();
        var node = (await K("get", "pod", "user", "-o", "jsonpath={.spec.nodeName}")).Ok().Output;
        Assert.Contains(node, SimulatedCluster.NodeNames);
        Assert.Equal("local-path", (await K("get", "pvc", "data", "-o", "jsonpath={.spec.storageClassName}")).Ok().Output);
        Assert.Equal(node, (await K("get", "pvc", "data", "-o", "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}")).Ok().Output);
        var volume = (await K("get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}")).Ok().Output;
        Assert.Equal(
            node,
            (await cluster.KubectlAsync("get", "pv", volume, "-o", "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}")).Ok().Output);

        // Reclaim Delete: the volume goes with its claim once no pod uses it.
        (await K("delete", "pod", "user", "--grace-period=0", "--force")).Ok();
        (await K("delete", "pvc", "data", "--timeout=60s")).Ok();
        (await cluster.KubectlAsync("wait", "--for=delete", "pv/" + volume, "--timeout=60s")).Ok();
    }

    [Fact]
    public async Task StatefulSet_FiveHundredClaimTemplates_ProvisionedAndBoundAcrossTheNodes()
    {
        // Parallel pod management: every pod is created at once, so all 500 claims wait for their pods' nodes together.
        const int replicas = 500;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], $$"""
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: db
            spec:
              replicas: {{replicas}}
              podManagementPolicy: Parallel
              serviceName: db
              selector:
                matchLabels: {app: db}
              template:
                metadata:
                  labels: {app: db}
                spec:
                  tolerations:
                  - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                  containers:
                  - name: c
                    image: busybox
                    volumeMounts:
                    - {name: data, mountPath: /data}
              volumeClaimTemplates:
              - metadata:
                  name: data
                spec:
                  accessModes: [ReadWriteOnce]
                  resources:
                    requests: {storage: 16Mi}
            """)).Ok();

        (await K("rollout", "status", "statefulset/db", "--timeout=300s")).Ok();
        var claims = (await K("get", "pvc", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.spec.volumeName} {.metadata.annotations.volume\\.kubernetes\\.io/selected-node}{\"\\n\"}{end}")).Ok().Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        Assert.Equal(replicas, claims.Count);
        Assert.All(claims, c => Assert.Equal("Bound", c[1]));
        Assert.Equal(replicas, claims.Select(c => c[2]).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, replicas).Select(i => $"data-db-{i}").Order(), claims.Select(c => c[0]).Order());

        // Each claim's volume lives on the node its pod runs on, and the claims are spread over every node.
        var pods = (await K("get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}")).Ok().Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        Assert.All(claims, c => Assert.Equal(pods[c[0]["data-".Length..]], c[3]));
        Assert.Equal(SimulatedCluster.NodeNames.Order(), claims.Select(c => c[3]).Distinct().Order());

        (await K("delete", "statefulset", "db", "--wait=false")).Ok();
    }
}
