using System.Net;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using CoreEndpointPort = Kubesharp.Api.Core.V1.EndpointPort;
using SliceEndpointPort = Kubesharp.Api.Discovery.V1.EndpointPort;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>
/// The API server's own endpoints: the default/kubernetes Endpoints and EndpointSlice that send the
/// <c>kubernetes</c> Service (no selector, so no controller fills it) to the address and port pods reach the
/// API at. The server keeps them through the API, as upstream's endpoint reconciler does: written when
/// missing or different, checked again every period.
/// </summary>
public static class KubernetesServiceEndpoints
{
    public const string Namespace = "default";
    public const string Name = "kubernetes";
    public const string PortName = "https";

    public static global::Kubesharp.Api.Core.V1.Endpoints DesiredEndpoints(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new global::Kubesharp.Api.Core.V1.Endpoints
        {
            ApiVersion = "v1",
            Kind = "Endpoints",
            // Mirroring would write a second slice for the Service; ours is written directly.
            Metadata = new ObjectMeta { Name = Name, Namespace = Namespace, Labels = new() { [EndpointSliceLabels.SkipMirror] = "true" } },
            Subsets =
            [
                new EndpointSubset
                {
                    Addresses = [new EndpointAddress { Ip = address.ToString() }],
                    Ports = [new CoreEndpointPort { Name = PortName, Port = port, Protocol = "TCP" }],
                },
            ],
        };
    }

    public static EndpointSlice DesiredSlice(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1",
            Kind = "EndpointSlice",
            Metadata = new ObjectMeta { Name = Name, Namespace = Namespace, Labels = new() { [EndpointSliceLabels.ServiceName] = Name } },
            AddressType = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4",
            Endpoints = [new Endpoint { Addresses = [address.ToString()], Conditions = new EndpointConditions { Ready = true } }],
            Ports = [new SliceEndpointPort { Name = PortName, Port = port, Protocol = "TCP" }],
        };
    }

    /// <summary>Ensures both objects now and every <paramref name="period"/> until cancelled; failures go to <paramref name="onError"/> and are retried.</summary>
    public static async Task KeepAsync(KubernetesClient client, IPAddress address, int port, TimeSpan period, TimeProvider time, Action<Exception> onError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onError);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EnsureAsync(client, address, port, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                onError(e);
            }

            try
            {
                await Task.Delay(period, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Creates the Endpoints and the EndpointSlice, or rewrites them when they name another address or port.</summary>
    public static async Task EnsureAsync(KubernetesClient client, IPAddress address, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var endpoints = DesiredEndpoints(address, port);
        await EnsureAsync(client.Resource<global::Kubesharp.Api.Core.V1.Endpoints>(), endpoints, Matches, (current, desired) =>
        {
            current.Subsets = desired.Subsets;
            return current;
        }, cancellationToken).ConfigureAwait(false);

        var slice = DesiredSlice(address, port);
        await EnsureAsync(client.Resource<EndpointSlice>(), slice, Matches, (current, desired) =>
        {
            current.AddressType = desired.AddressType;
            current.Endpoints = desired.Endpoints;
            current.Ports = desired.Ports;
            return current;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureAsync<T>(ResourceClient<T> resource, T desired, Func<T, T, bool> matches, Func<T, T, T> repair, CancellationToken cancellationToken)
        where T : class, Kubesharp.ApiMachinery.IKubernetesObject, Kubesharp.ApiMachinery.IKubernetesKind
    {
        T current;
        try
        {
            current = await resource.GetAsync(Namespace, Name, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            try
            {
                await resource.CreateAsync(desired, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException again) when (again.IsAlreadyExists())
            {
                // Another writer was first; the next period checks what it wrote.
            }

            return;
        }

        if (matches(current, desired))
        {
            return;
        }

        var labels = current.Metadata!.Labels ?? [];
        foreach (var label in desired.Metadata!.Labels!)
        {
            labels[label.Key] = label.Value;
        }

        current.Metadata.Labels = labels;
        try
        {
            await resource.UpdateAsync(repair(current, desired), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsConflict())
        {
            // Changed meanwhile; the next period looks again.
        }
    }

    private static bool Matches(global::Kubesharp.Api.Core.V1.Endpoints current, global::Kubesharp.Api.Core.V1.Endpoints desired) =>
        LabelsHeld(current.Metadata, desired.Metadata)
        && current.Subsets is [{ Addresses: [{ } address], NotReadyAddresses: null or [], Ports: [{ } port] }]
        && address.Ip == desired.Subsets![0].Addresses![0].Ip
        && port.Name == PortName && port.Port == desired.Subsets[0].Ports![0].Port && port.Protocol == "TCP";

    private static bool Matches(EndpointSlice current, EndpointSlice desired) =>
        LabelsHeld(current.Metadata, desired.Metadata)
        && current.AddressType == desired.AddressType
        && current.Endpoints is [{ Addresses: [{ } address], Conditions.Ready: true }]
        && address == desired.Endpoints![0].Addresses![0]
        && current.Ports is [{ Name: PortName, Protocol: "TCP" } port]
        && port.Port == desired.Ports![0].Port;

    private static bool LabelsHeld(ObjectMeta? current, ObjectMeta? desired) =>
        desired?.Labels?.All(l => current?.Labels?.GetValueOrDefault(l.Key) == l.Value) ?? true;

}
