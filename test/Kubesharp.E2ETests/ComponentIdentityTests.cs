namespace Kubesharp.E2ETests;

/// <summary>
/// The real server's scheduler and controller manager act under their own identities: a Deployment becomes Ready
/// through them, and each stops working while its ClusterRoleBinding is gone (so neither holds the admin's rights)
/// and resumes once the binding is back.
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class ComponentIdentityTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "id" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    [Fact]
    public async Task SchedulerAndControllers_RunADeploymentToReady_OnlyThroughTheirOwnBindings()
    {
        await ApplyAsync(Deployment("ready", 2));
        (await K("rollout", "status", "deployment/ready", "--timeout=120s")).Ok();
        Assert.Equal("2", (await K("get", "deployment", "ready", "-o", "jsonpath={.status.readyReplicas}")).Ok().Output);

        // Without its binding the scheduler cannot bind: the controllers' pod stays unscheduled.
        var scheduler = await RemoveBindingAsync("system:kube-scheduler");
        try
        {
            await ApplyAsync(Deployment("unscheduled", 1));
            (await K("wait", "--for=create", "pod", "-l", "app=unscheduled", "--timeout=60s")).Ok();
            var wait = await K("wait", "--for=condition=PodScheduled", "pod", "-l", "app=unscheduled", "--timeout=8s");
            Assert.NotEqual(0, wait.ExitCode);
            Assert.Equal(string.Empty, (await K("get", "pods", "-l", "app=unscheduled", "-o", "jsonpath={.items[0].spec.nodeName}")).Ok().Output);
        }
        finally
        {
            await RestoreAsync(scheduler);
        }

        (await K("rollout", "status", "deployment/unscheduled", "--timeout=120s")).Ok();

        // Without the controllers' binding the Deployment controller cannot create a ReplicaSet.
        var controllers = await RemoveBindingAsync("system:kube-controller-manager:controllers");
        try
        {
            await ApplyAsync(Deployment("unmanaged", 1));
            var wait = await K("wait", "--for=create", "replicaset", "-l", "app=unmanaged", "--timeout=8s");
            Assert.NotEqual(0, wait.ExitCode);
            Assert.Equal(string.Empty, (await K("get", "replicasets", "-l", "app=unmanaged", "-o", "name")).Ok().Output.Trim());
        }
        finally
        {
            await RestoreAsync(controllers);
        }

        (await K("rollout", "status", "deployment/unmanaged", "--timeout=120s")).Ok();
    }

    private async Task<string> RemoveBindingAsync(string name)
    {
        var saved = (await cluster.KubectlAsync("get", "clusterrolebinding", name, "-o", "json")).Ok().Output;
        (await cluster.KubectlAsync("delete", "clusterrolebinding", name)).Ok();
        return saved;
    }

    private async Task RestoreAsync(string binding)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(binding)!.AsObject();
        var metadata = node["metadata"]!.AsObject();
        foreach (var field in new[] { "resourceVersion", "uid", "creationTimestamp", "managedFields" })
        {
            metadata.Remove(field);
        }

        (await cluster.KubectlAsync(["create", "-f", "-"], node.ToJsonString())).Ok();
    }

    private async Task ApplyAsync(string manifest) => (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();

    private static string Deployment(string name, int replicas) => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{name}}
        spec:
          replicas: {{replicas}}
          selector:
            matchLabels: {app: {{name}}}
          template:
            metadata:
              labels: {app: {{name}}}
            spec:
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: web
                image: nginx:1.25
        """;
}
