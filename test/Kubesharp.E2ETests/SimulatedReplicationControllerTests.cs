namespace Kubesharp.E2ETests;

/// <summary>A legacy ReplicationController through the real kubectl against the real server with simulated nodes.</summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class SimulatedReplicationControllerTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "rc" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    [Fact]
    public async Task ReplicationController_AppliedAndScaled_RunsItsPodsAndPrintsLiveStatus()
    {
        const string manifest = """
            apiVersion: v1
            kind: ReplicationController
            metadata:
              name: legacy
            spec:
              replicas: 2
              template:
                metadata:
                  labels: {app: legacy}
                spec:
                  tolerations:
                  - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                  containers:
                  - {name: web, image: nginx}
            """;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
        (await K("wait", "--for=jsonpath={.status.readyReplicas}=2", "rc/legacy", "--timeout=60s")).Ok();
        Assert.Matches(@"^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nlegacy\s+2\s+2\s+2\s+\S+\n$", (await K("get", "rc", "legacy")).Ok().Output);

        (await K("scale", "rc", "legacy", "--replicas=3")).Ok();
        (await K("wait", "--for=jsonpath={.status.readyReplicas}=3", "rc/legacy", "--timeout=60s")).Ok();
        var pods = (await K("get", "pods", "-l", "app=legacy", "-o", "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}")).Ok().Output;
        Assert.Equal("ReplicationController/legacy ReplicationController/legacy ReplicationController/legacy ", pods);

        (await K("delete", "rc", "legacy", "--wait=true", "--timeout=60s")).Ok();
        (await K("wait", "--for=delete", "pods", "-l", "app=legacy", "--timeout=60s")).Ok();
    }
}
