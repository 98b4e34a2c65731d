using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Finds where an APIService's Service is served: the service port the APIService names, then a ready endpoint of the
/// service's EndpointSlices with that port's name. What is missing is answered with upstream's availability reason.
/// </summary>
internal sealed class ServiceEndpointResolver(ResourceRegistry registry)
{
    public ServiceResolution Resolve(string @namespace, string name, int port)
    {
        var services = registry.FindByGroupResource("services");
        var service = services is null ? null : registry.Get(services, @namespace, name)?.ToNode();
        if (service is null)
        {
            return ServiceResolution.Failed("ServiceNotFound", $"service/{name} in \"{@namespace}\" is not present");
        }

        var servicePort = (service["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => JsonNumber.Int64(p["port"]) == port);
        if (servicePort is null)
        {
            return ServiceResolution.Failed("ServicePortError", $"service/{name} in \"{@namespace}\" is not listening on port {port}");
        }

        // An ExternalName service is dialed by its name, as upstream's resolver does.
        if ((string?)service["spec"]?["type"] == "ExternalName" && (string?)service["spec"]?["externalName"] is { Length: > 0 } external)
        {
            return new ServiceResolution(null, null, new DnsEndPoint(external, port));
        }

        var portName = (string?)servicePort["name"] ?? string.Empty;
        var slices = registry.FindByGroupResource("endpointslices.discovery.k8s.io");
        var found = false;
        if (slices is not null)
        {
            foreach (var slice in registry.Cache.For(slices).Snapshot.Values)
            {
                if (slice.Namespace != @namespace || !slice.Labels.TryGetValue("kubernetes.io/service-name", out var owner) || owner != name)
                {
                    continue;
                }

                found = true;
                var node = slice.ToNode();
                var slicePort = (node["ports"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => ((string?)p["name"] ?? string.Empty) == portName);
                if (slicePort is null || JsonNumber.Int64(slicePort["port"]) is not { } target)
                {
                    continue;
                }

                foreach (var endpoint in (node["endpoints"] as JsonArray)?.OfType<JsonObject>() ?? [])
                {
                    // Ready unless said otherwise, as upstream reads an absent condition.
                    if (endpoint["conditions"]?["ready"]?.GetValueKind() == System.Text.Json.JsonValueKind.False)
                    {
                        continue;
                    }

                    var address = (endpoint["addresses"] as JsonArray)?.Select(a => (string?)a).FirstOrDefault(a => a is not null);
                    if (address is not null && IPAddress.TryParse(address, out var ip))
                    {
                        return new ServiceResolution(null, null, new IPEndPoint(ip, (int)target));
                    }
                }
            }
        }

        return found
            ? ServiceResolution.Failed("MissingEndpoints", $"endpoints for service/{name} in \"{@namespace}\" have no addresses with port name \"{portName}\"")
            : ServiceResolution.Failed("EndpointsNotFound", $"cannot find endpoints for service/{name} in \"{@namespace}\"");
    }
}

/// <summary>An endpoint to dial, or why there is none (an availability reason and message).</summary>
internal sealed record ServiceResolution(string? Reason, string? Message, EndPoint? Endpoint)
{
    public static ServiceResolution Failed(string reason, string message) => new(reason, message, null);
}
