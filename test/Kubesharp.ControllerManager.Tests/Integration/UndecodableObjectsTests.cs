using System.Text;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>
/// Objects with wrong-typed fields, as an older server stored them, sit in the store beside the controllers'
/// objects: every controller goes on with the rest. They are written to the store directly because the API
/// may refuse them.
/// </summary>
public sealed class UndecodableObjectsTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    private async Task<string> NewNamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.Client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = name } });
        return name;
    }

    private Task StoreAsync(string key, string json) =>
        cluster.Store.CreateAsync(key, Encoding.UTF8.GetBytes(json.Replace("@UID@", Guid.NewGuid().ToString(), StringComparison.Ordinal)), CancellationToken.None);

    private async Task StorePoisonAsync(string ns, bool withFinalizer = true)
    {
        await StoreAsync($"/registry/configmaps/{ns}/bad-data", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad-data","namespace":"@NS@","uid":"@UID@"},"data":{"k":1}}""".Replace("@NS@", ns, StringComparison.Ordinal));
        await StoreAsync($"/registry/deployments.apps/{ns}/bad-replicas", """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad-replicas","namespace":"@NS@","uid":"@UID@"},"spec":{"replicas":1.5,"selector":{"matchLabels":{"app":"bad"}},"template":{"metadata":{"labels":{"app":"bad"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""".Replace("@NS@", ns, StringComparison.Ordinal));
        await StoreAsync($"/registry/replicasets.apps/{ns}/bad-rs", """{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bad-rs","namespace":"@NS@","uid":"@UID@"},"spec":{"replicas":99999999999999999999,"selector":{"matchLabels":{"app":"bad"}},"template":{"metadata":{"labels":{"app":"bad"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""".Replace("@NS@", ns, StringComparison.Ordinal));
        if (!withFinalizer)
        {
            // A finalizer (even a wrong-typed one) holds an object's deletion back until someone removes it.
            return;
        }

        await StoreAsync($"/registry/serviceaccounts/{ns}/bad-sa", """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"bad-sa","namespace":"@NS@","uid":"@UID@","finalizers":[1]}}""".Replace("@NS@", ns, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongTypedObjects_DeploymentStillRollsOutAndNewNamespaceGetsItsServiceAccount()
    {
        var poisoned = await NewNamespaceAsync();
        await StorePoisonAsync(poisoned);
        await StoreAsync("/registry/namespaces/bad-namespace", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bad-namespace","labels":{"a":1}}}""");

        var deployment = Objects.Deployment("web", 2);
        deployment.Metadata = new ObjectMeta { Name = "web", Namespace = poisoned };
        await cluster.Client.Resource<Deployment>().CreateAsync(deployment);
        var fresh = await NewNamespaceAsync();

        var rollout = await ControllerCluster.EventuallyAsync(
            () => cluster.Client.Resource<Deployment>().GetAsync(poisoned, "web"),
            d => d.Status?.AvailableReplicas == 2,
            "the deployment beside the poison objects to become available");
        Assert.Equal(2, rollout.Status!.ReadyReplicas);
        var replicaSets = await cluster.Client.Resource<ReplicaSet>().ListAsync(poisoned);
        Assert.Single(replicaSets.Items, rs => rs.Metadata!.OwnerReferences?.SingleOrDefault()?.Uid == rollout.Metadata!.Uid);
        Assert.Contains(replicaSets.Undecodable, u => u.Name == "bad-rs");
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ServiceAccount>(fresh, "default"), sa => sa is not null, "the new namespace's default ServiceAccount");
    }

    [Fact]
    public async Task NamespaceWithWrongTypedObjects_IsEmptiedAndRemoved()
    {
        var ns = await NewNamespaceAsync();
        await StorePoisonAsync(ns, withFinalizer: false);
        await cluster.Client.Resource<ConfigMap>().CreateAsync(new ConfigMap { Metadata = new ObjectMeta { Name = "good", Namespace = ns } });

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);

        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<Namespace>(null, ns), n => n is null, "the namespace to go");
        var left = await cluster.Store.ListAsync("/registry/", new Kubesharp.Storage.ListOptions(), CancellationToken.None);
        Assert.DoesNotContain(left.Items, kv => kv.Key.Contains($"/{ns}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OwnerThatDoesNotDecode_StillOwnsItsDependents()
    {
        var ns = await NewNamespaceAsync();
        var ownerUid = Guid.NewGuid().ToString();
        await cluster.Store.CreateAsync(
            $"/registry/deployments.apps/{ns}/bad-owner",
            Encoding.UTF8.GetBytes($$$"""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad-owner","namespace":"{{{ns}}}","uid":"{{{ownerUid}}}"},"spec":{"replicas":1.5}}"""),
            CancellationToken.None);
        var maps = cluster.Client.Resource<ConfigMap>();
        ConfigMap Owned(string name, string ownerName, string uid) => new()
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = ns,
                OwnerReferences = [new OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = ownerName, Uid = uid }],
            },
        };
        await maps.CreateAsync(Owned("kept", "bad-owner", ownerUid));
        await maps.CreateAsync(Owned("orphan", "missing-owner", Guid.NewGuid().ToString()));

        // The collector removes the dependent of a missing owner; the other one's owner exists, readable or not.
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ConfigMap>(ns, "orphan"), m => m is null, "the orphan to be collected");
        Assert.NotNull(await cluster.TryGetAsync<ConfigMap>(ns, "kept"));
    }
}
