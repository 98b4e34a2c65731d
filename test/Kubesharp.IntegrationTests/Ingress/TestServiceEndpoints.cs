using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>Services without a selector whose EndpointSlices name test backends, as the endpoint controller would write them.</summary>
internal static class TestServiceEndpoints
{
    /// <summary>A Service with port <paramref name="port"/> (named http) and one EndpointSlice NAME-one holding the backend.</summary>
    public static async Task CreateAsync(KubernetesClient client, string ns, string name, TestBackend backend, int port = 80)
    {
        await client.Resource<Service>().CreateAsync(new Service
        {
            Metadata = new ObjectMeta { Name = name, Namespace = ns },
            Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = port, TargetPort = new IntOrString(8080) }] },
        });
        await SliceAsync(client, ns, name, name + "-one", backend, ready: true);
    }

    /// <summary>Creates or replaces the EndpointSlice <paramref name="name"/> of a Service with the backend as its one endpoint.</summary>
    public static async Task SliceAsync(KubernetesClient client, string ns, string service, string name, TestBackend backend, bool ready)
    {
        var slices = client.Resource<EndpointSlice>();
        var slice = new EndpointSlice
        {
            Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = new() { ["kubernetes.io/service-name"] = service } },
            AddressType = "IPv4",
            Ports = [new Kubesharp.Api.Discovery.V1.EndpointPort { Name = "http", Port = backend.Port, Protocol = "TCP" }],
            Endpoints = [new Endpoint { Addresses = ["127.0.0.1"], Conditions = new EndpointConditions { Ready = ready } }],
        };
        try
        {
            await slices.CreateAsync(slice);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            slice.Metadata.ResourceVersion = (await slices.GetAsync(ns, name)).Metadata!.ResourceVersion;
            await slices.UpdateAsync(slice);
        }
    }
}
