using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>What the controllers log while a namespace full of running workloads is deleted.</summary>
public sealed class ControllerLogTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    [Fact]
    public async Task DeleteNamespace_WithRunningDeployment_NoWarningsNoStackTraces()
    {
        var ns = "t-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.Client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = ns } });
        var deployment = Objects.Deployment("web", 5);
        deployment.Metadata = new ObjectMeta { Name = "web", Namespace = ns };
        await cluster.Client.Resource<Deployment>().CreateAsync(deployment);
        await ControllerCluster.EventuallyAsync(
            () => cluster.Client.Resource<Deployment>().GetAsync(ns, "web"),
            d => d.Status?.AvailableReplicas == 5,
            "the deployment to become available");

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<Namespace>(null, ns), n => n is null, "the namespace to go");

        // Objects deleted while queued and writes refused in a terminating namespace are expected, as upstream.
        var about = cluster.Logs.Entries.Where(e => e.Message.Contains(ns, StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(about, e => e.Exception is not null);
        Assert.DoesNotContain(about, e => e.Level >= LogLevel.Warning);
        Assert.DoesNotContain(cluster.Logs.Entries, e => e.Exception is not null);
    }
}
