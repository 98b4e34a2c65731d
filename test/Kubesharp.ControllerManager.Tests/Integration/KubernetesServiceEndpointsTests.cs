using System.Net;
using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Scheduler.Tests;
using Kubesharp.ControllerManager.Endpoints;
using CoreEndpoints = Kubesharp.Api.Core.V1.Endpoints;

namespace Kubesharp.ControllerManager.Tests.Integration;

public sealed class KubernetesServiceEndpointsTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    [Fact]
    public async Task EnsureAsync_NoneThenAddressChanged_WritesAndRewritesEndpointsAndSlice()
    {
        var client = cluster.Client;
        await KubernetesServiceEndpoints.EnsureAsync(client, IPAddress.Parse("192.0.2.44"), 6443, CancellationToken.None);

        var endpoints = await client.Resource<CoreEndpoints>().GetAsync("default", "kubernetes");
        var subset = Assert.Single(endpoints.Subsets!);
        Assert.Equal("192.0.2.44", Assert.Single(subset.Addresses!).Ip);
        Assert.Equal(6443, Assert.Single(subset.Ports!).Port);
        Assert.Equal("true", endpoints.Metadata!.Labels![EndpointSliceLabels.SkipMirror]);
        var slice = await client.Resource<EndpointSlice>().GetAsync("default", "kubernetes");
        Assert.Equal("kubernetes", slice.Metadata!.Labels![EndpointSliceLabels.ServiceName]);
        Assert.False(slice.Metadata.Labels.ContainsKey(EndpointSliceLabels.ManagedBy));
        Assert.Equal("IPv4", slice.AddressType);
        var endpoint = Assert.Single(slice.Endpoints!);
        Assert.Equal("192.0.2.44", Assert.Single(endpoint.Addresses!));
        Assert.True(endpoint.Conditions!.Ready);
        Assert.Equal(("https", 6443, "TCP"), Assert.Single(slice.Ports!) is var p ? (p.Name, p.Port, p.Protocol) : default);

        await KubernetesServiceEndpoints.EnsureAsync(client, IPAddress.Parse("192.0.2.45"), 7443, CancellationToken.None);

        endpoints = await client.Resource<CoreEndpoints>().GetAsync("default", "kubernetes");
        Assert.Equal("192.0.2.45", Assert.Single(Assert.Single(endpoints.Subsets!).Addresses!).Ip);
        slice = await client.Resource<EndpointSlice>().GetAsync("default", "kubernetes");
        Assert.Equal("192.0.2.45", Assert.Single(Assert.Single(slice.Endpoints!).Addresses!));
        Assert.Equal(7443, Assert.Single(slice.Ports!).Port);
    }

    [Fact]
    public async Task KeepWithLeasesAsync_TwoServersOneStopsOneExpired_EndpointsNameTheLiveServers()
    {
        var client = cluster.Client;
        var time = new ManualTimeProvider();
        var period = TimeSpan.FromSeconds(10);
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var first = KubernetesServiceEndpoints.KeepWithLeasesAsync(client, IPAddress.Parse("192.0.2.60"), 6443, period, TimeSpan.FromSeconds(15), time, e => Assert.Fail(e.Message), stopFirst.Token);
        var second = KubernetesServiceEndpoints.KeepWithLeasesAsync(client, IPAddress.Parse("192.0.2.61"), 6443, period, TimeSpan.FromSeconds(15), time, e => Assert.Fail(e.Message), stopSecond.Token);
        try
        {
            // Each server writes what it sees; after one more round both see both.
            await EventuallyAsync(time, period, async () => await ServersAsync(client) == "192.0.2.60:6443,192.0.2.61:6443");
            var lease = await client.Resource<Lease>().GetAsync("kube-system", "kubesharp-apiserver-192-0-2-60-6443");
            Assert.Equal("true", lease.Metadata!.Labels![KubernetesServiceEndpoints.LeaseLabel]);
            Assert.Equal(15, lease.Spec!.LeaseDurationSeconds);

            // A server that stops takes its lease and its address away at once.
            await stopFirst.CancelAsync();
            await first;
            Assert.Equal("192.0.2.61:6443", await ServersAsync(client));
            Assert.DoesNotContain((await client.Resource<Lease>().ListAsync("kube-system")).Items, l => l.Metadata!.Name == "kubesharp-apiserver-192-0-2-60-6443");

            // A server that died leaves a lease nobody renews: it is not listed, and it is deleted.
            await client.Resource<Lease>().CreateAsync(new Lease
            {
                Metadata = new ObjectMeta
                {
                    Name = "kubesharp-apiserver-192-0-2-62-6443",
                    Namespace = "kube-system",
                    Labels = new() { [KubernetesServiceEndpoints.LeaseLabel] = "true" },
                    Annotations = new() { [KubernetesServiceEndpoints.AddressAnnotation] = "192.0.2.62", [KubernetesServiceEndpoints.PortAnnotation] = "6443" },
                },
                Spec = new LeaseSpec { HolderIdentity = "192.0.2.62:6443", LeaseDurationSeconds = 15, RenewTime = time.GetUtcNow() - TimeSpan.FromMinutes(1) },
            });
            await EventuallyAsync(time, period, async () => !(await client.Resource<Lease>().ListAsync("kube-system")).Items.Any(l => l.Metadata!.Name == "kubesharp-apiserver-192-0-2-62-6443"));
            Assert.Equal("192.0.2.61:6443", await ServersAsync(client));
        }
        finally
        {
            await stopFirst.CancelAsync();
            await stopSecond.CancelAsync();
            await Task.WhenAll(first, second);
        }
    }

    private static async Task<string> ServersAsync(Kubesharp.Client.KubernetesClient client)
    {
        try
        {
            return string.Join(',', KubernetesServiceEndpoints.ServersOf(await client.Resource<CoreEndpoints>().GetAsync("default", "kubernetes")).Select(s => s.ToString()));
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.Code == 404)
        {
            // Not written yet.
            return "";
        }
    }

    /// <summary>Moves fake time a period at a time (each server's next round) until the condition holds; bounded.</summary>
    private static async Task EventuallyAsync(ManualTimeProvider time, TimeSpan period, Func<Task<bool>> condition)
    {
        for (var round = 0; round < 40; round++)
        {
            for (var check = 0; check < 20; check++)
            {
                if (await condition())
                {
                    return;
                }

                await Task.Delay(50);
            }

            time.Advance(period);
        }

        Assert.Fail("the endpoints did not settle");
    }
}
