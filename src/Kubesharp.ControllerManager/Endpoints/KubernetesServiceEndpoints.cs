using System.Net;
using Kubesharp.Api.Coordination.V1;
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

    /// <summary>Leases of the servers that keep the endpoints together: each renews its own, the live ones are listed.</summary>
    public const string LeaseNamespace = "kube-system";
    public const string LeaseLabel = "kubesharp.io/apiserver-endpoint";
    public const string AddressAnnotation = "kubesharp.io/advertise-address";
    public const string PortAnnotation = "kubesharp.io/https-port";

    public static global::Kubesharp.Api.Core.V1.Endpoints DesiredEndpoints(IPAddress address, int port) => DesiredEndpoints([new IPEndPoint(address, port)]);

    /// <summary>One subset per port (one port in a real cluster; servers sharing a host differ by port), addresses sorted.</summary>
    public static global::Kubesharp.Api.Core.V1.Endpoints DesiredEndpoints(IReadOnlyList<IPEndPoint> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        return new global::Kubesharp.Api.Core.V1.Endpoints
        {
            ApiVersion = "v1",
            Kind = "Endpoints",
            // Mirroring would write a second slice for the Service; ours is written directly.
            Metadata = new ObjectMeta { Name = Name, Namespace = Namespace, Labels = new() { [EndpointSliceLabels.SkipMirror] = "true" } },
            Subsets = [.. PortGroups(servers).Select(g => new EndpointSubset
            {
                Addresses = [.. g.Addresses.Select(a => new EndpointAddress { Ip = a })],
                Ports = [new CoreEndpointPort { Name = PortName, Port = g.Port, Protocol = "TCP" }],
            })],
        };
    }

    public static EndpointSlice DesiredSlice(IPAddress address, int port) => DesiredSlice([new IPEndPoint(address, port)]);

    /// <summary>The slice names the servers of the first port (a slice has one port list); the Endpoints name them all.</summary>
    public static EndpointSlice DesiredSlice(IReadOnlyList<IPEndPoint> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var group = PortGroups(servers)[0];
        return new EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1",
            Kind = "EndpointSlice",
            Metadata = new ObjectMeta { Name = Name, Namespace = Namespace, Labels = new() { [EndpointSliceLabels.ServiceName] = Name } },
            AddressType = servers[0].AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4",
            Endpoints = [.. group.Addresses.Select(a => new Endpoint { Addresses = [a], Conditions = new EndpointConditions { Ready = true } })],
            Ports = [new SliceEndpointPort { Name = PortName, Port = group.Port, Protocol = "TCP" }],
        };
    }

    /// <summary>The servers the Endpoints name, as HOST:PORT pairs (what an agent balances over).</summary>
    public static IReadOnlyList<IPEndPoint> ServersOf(global::Kubesharp.Api.Core.V1.Endpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return [.. (endpoints.Subsets ?? []).SelectMany(s => (s.Addresses ?? []).SelectMany(a =>
            (s.Ports ?? []).Where(p => p.Name == PortName && p.Port is not null && IPAddress.TryParse(a.Ip, out _)).Select(p => new IPEndPoint(IPAddress.Parse(a.Ip!), p.Port!.Value))))];
    }

    private static List<(int Port, List<string> Addresses)> PortGroups(IReadOnlyList<IPEndPoint> servers)
    {
        if (servers.Count == 0)
        {
            throw new ArgumentException("at least one server is needed", nameof(servers));
        }

        return [.. servers.Distinct().GroupBy(s => s.Port).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Select(s => s.Address.ToString()).Order(StringComparer.Ordinal).ToList()))];
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

    /// <summary>
    /// For several servers (upstream's lease endpoint reconciler): every <paramref name="period"/> this server renews its
    /// Lease (kube-system, label <see cref="LeaseLabel"/>, valid for <paramref name="leaseDuration"/>), and writes the
    /// Endpoints and the slice naming the servers whose leases are live; expired leases are deleted, so a dead server
    /// leaves the list. On stop its own lease goes and the endpoints are written without it.
    /// </summary>
    public static async Task KeepWithLeasesAsync(KubernetesClient client, IPAddress address, int port, TimeSpan period, TimeSpan leaseDuration, TimeProvider time, Action<Exception> onError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(onError);
        ArgumentNullException.ThrowIfNull(time);
        var self = new IPEndPoint(address, port);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RenewLeaseAsync(client, self, leaseDuration, time, cancellationToken).ConfigureAwait(false);
                var live = await LiveServersAsync(client, self, time, cancellationToken).ConfigureAwait(false);
                await EnsureAsync(client, live, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped mid-request: leave as below.
                break;
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
                break;
            }
        }

        // Leaving: the others stop being sent here at once instead of when the lease expires.
        using var leaving = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        try
        {
            await client.Resource<Lease>().DeleteAsync(LeaseNamespace, LeaseName(self), cancellationToken: leaving.Token).ConfigureAwait(false);
            var rest = (await LiveServersAsync(client, null, time, leaving.Token).ConfigureAwait(false)).Where(s => !s.Equals(self)).ToList();
            if (rest.Count > 0)
            {
                await EnsureAsync(client, rest, leaving.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The lease expires on its own.
        }
    }

    public static string LeaseName(IPEndPoint server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return $"kubesharp-apiserver-{server.Address.ToString().Replace('.', '-').Replace(':', '-').Trim('-')}-{server.Port}";
    }

    private static async Task RenewLeaseAsync(KubernetesClient client, IPEndPoint self, TimeSpan leaseDuration, TimeProvider time, CancellationToken cancellationToken)
    {
        var leases = client.Resource<Lease>();
        var now = time.GetUtcNow();
        var spec = new LeaseSpec { HolderIdentity = $"{self.Address}:{self.Port}", LeaseDurationSeconds = (int)leaseDuration.TotalSeconds, RenewTime = now };
        try
        {
            var current = await leases.GetAsync(LeaseNamespace, LeaseName(self), cancellationToken).ConfigureAwait(false);
            await leases.UpdateAsync(current with { Spec = spec }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            await leases.CreateAsync(new Lease
            {
                Metadata = new ObjectMeta
                {
                    Name = LeaseName(self),
                    Namespace = LeaseNamespace,
                    Labels = new() { [LeaseLabel] = "true" },
                    Annotations = new() { [AddressAnnotation] = self.Address.ToString(), [PortAnnotation] = self.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                },
                Spec = spec,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The servers whose leases are live (this one always); expired leases are deleted, guarded by their resource version.</summary>
    private static async Task<List<IPEndPoint>> LiveServersAsync(KubernetesClient client, IPEndPoint? self, TimeProvider time, CancellationToken cancellationToken)
    {
        var leases = client.Resource<Lease>();
        var now = time.GetUtcNow();
        var live = new List<IPEndPoint>();
        if (self is not null)
        {
            live.Add(self);
        }

        foreach (var lease in (await leases.ListAsync(LeaseNamespace, new ListOptions { LabelSelector = LeaseLabel }, cancellationToken).ConfigureAwait(false)).Items)
        {
            var annotations = lease.Metadata?.Annotations;
            if (annotations?.GetValueOrDefault(AddressAnnotation) is not { } addressText || !IPAddress.TryParse(addressText, out var address)
                || !int.TryParse(annotations.GetValueOrDefault(PortAnnotation), System.Globalization.CultureInfo.InvariantCulture, out var port))
            {
                continue;
            }

            var server = new IPEndPoint(address, port);
            if (lease.Spec?.RenewTime is { } renewed && renewed + TimeSpan.FromSeconds(lease.Spec.LeaseDurationSeconds ?? 15) > now)
            {
                if (!server.Equals(self))
                {
                    live.Add(server);
                }

                continue;
            }

            try
            {
                await leases.DeleteAsync(LeaseNamespace, lease.Metadata!.Name!, new DeleteOptions { Preconditions = new Preconditions { ResourceVersion = lease.Metadata.ResourceVersion } }, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
                // Renewed or deleted by another server meanwhile.
            }
        }

        return live;
    }

    /// <summary>Creates the Endpoints and the EndpointSlice, or rewrites them when they name another address or port.</summary>
    public static Task EnsureAsync(KubernetesClient client, IPAddress address, int port, CancellationToken cancellationToken) =>
        EnsureAsync(client, [new IPEndPoint(address, port)], cancellationToken);

    /// <summary>Creates the Endpoints and the EndpointSlice, or rewrites them when they name other servers.</summary>
    public static async Task EnsureAsync(KubernetesClient client, IReadOnlyList<IPEndPoint> servers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var endpoints = DesiredEndpoints(servers);
        await EnsureAsync(client.Resource<global::Kubesharp.Api.Core.V1.Endpoints>(), endpoints, Matches, (current, desired) =>
        {
            current.Subsets = desired.Subsets;
            return current;
        }, cancellationToken).ConfigureAwait(false);

        var slice = DesiredSlice(servers);
        await EnsureAsync(client.Resource<EndpointSlice>(), slice, Matches, (current, desired) =>
        {
            current.AddressType = desired.AddressType;
            current.Endpoints = desired.Endpoints;
            current.Ports = desired.Ports;
            return current;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureAsync<T>(ResourceClient<T> resource, T desired, Func<T, T, bool> matches, Func<T, T, T> repair, CancellationToken cancellationToken)
        where T : class, Kubesharp.ApiMachinery.IKubernetesObject, Kubesharp.ApiMachinery.IKubernetesKind, new()
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
        LabelsHeld(current.Metadata, desired.Metadata) && Shape(current.Subsets) == Shape(desired.Subsets);

    private static string Shape(List<EndpointSubset>? subsets) => string.Join(';', (subsets ?? []).Select(s =>
        $"{string.Join(',', (s.Addresses ?? []).Select(a => a.Ip))}|{(s.NotReadyAddresses ?? []).Count}|{string.Join(',', (s.Ports ?? []).Select(p => $"{p.Name}/{p.Port}/{p.Protocol}"))}"));

    private static bool Matches(EndpointSlice current, EndpointSlice desired) =>
        LabelsHeld(current.Metadata, desired.Metadata)
        && current.AddressType == desired.AddressType
        && string.Join(',', (current.Endpoints ?? []).Select(e => $"{string.Join('+', e.Addresses ?? [])}/{e.Conditions?.Ready}")) == string.Join(',', desired.Endpoints!.Select(e => $"{string.Join('+', e.Addresses ?? [])}/{e.Conditions?.Ready}"))
        && current.Ports is [{ Name: PortName, Protocol: "TCP" } port]
        && port.Port == desired.Ports![0].Port;

    private static bool LabelsHeld(ObjectMeta? current, ObjectMeta? desired) =>
        desired?.Labels?.All(l => current?.Labels?.GetValueOrDefault(l.Key) == l.Value) ?? true;

}
