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
}
