using System.Net;
using Kubesharp.Api.Discovery.V1;
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
}
