using System.Globalization;
using System.Net;
using System.Text.Json;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// The proxy subresources of nodes, pods and services: <c>nodes/NAME/proxy/PATH</c> reaches the node's agent,
/// <c>pods/[SCHEME:]NAME[:PORT]/proxy/PATH</c> the pod's IP and <c>services/[SCHEME:]NAME[:PORT]/proxy/PATH</c>
/// one ready endpoint of the service. Any method, streaming responses and upgrades (WebSocket) pass through the
/// forwarder; the client's credentials stay behind.
/// </summary>
internal sealed class ProxySubresources(ResourceRegistry registry, KubeletClient kubelets, IHttpForwarder forwarder)
{
    private static readonly ForwarderRequestConfig Config = new() { ActivityTimeout = TimeSpan.FromHours(1) };

    private readonly Lazy<HttpMessageInvoker> workloads = new(() => new HttpMessageInvoker(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ActivityHeadersPropagator = null,
#pragma warning disable CA5359 // pods serve whatever certificate they have; upstream does not verify it either
        SslOptions = new() { RemoteCertificateValidationCallback = (_, _, _, _) => true },
#pragma warning restore CA5359
    }));

    /// <summary>Recognises core/v1 nodes/N/proxy, namespaces/NS/pods|services/N/proxy with the path after it.</summary>
    public static bool TryParse(string group, string[] rest, out ProxyTarget target)
    {
        target = default;
        if (group.Length != 0)
        {
            return false;
        }

        if (rest.Length >= 3 && rest[0] == "nodes" && rest[2] == "proxy")
        {
            target = new ProxyTarget("nodes", null, rest[1], rest[3..]);
            return true;
        }

        if (rest.Length >= 5 && rest[0] == "namespaces" && rest[2] is "pods" or "services" && rest[4] == "proxy")
        {
            target = new ProxyTarget(rest[2], rest[1], rest[3], rest[5..]);
            return true;
        }

        return false;
    }

    public async Task HandleAsync(HttpContext context, ProxyTarget target)
    {
        var (scheme, name, port) = SplitName(target.Name);
        var path = "/" + string.Join('/', target.Path.Select(Uri.EscapeDataString));
        if (target.Path.Length > 0 && RequestPath.Of(context).EndsWith('/'))
        {
            path += "/";
        }

        Uri destination;
        HttpMessageInvoker invoker;
        string? bearer = null;
        switch (target.Resource)
        {
            case "nodes":
                var nodes = registry.FindByGroupResource("nodes")!;
                var node = registry.Get(nodes, null, name) ?? throw StatusError.NotFound("nodes", string.Empty, name);
                destination = KubeletClient.EndpointOf(node) ?? throw new StatusError(503, "ServiceUnavailable", $"node {name} publishes no agent endpoint");
                invoker = kubelets.Forwarding;
                bearer = kubelets.NodeToken;
                break;
            case "pods":
                var pods = registry.FindByGroupResource("pods")!;
                var pod = registry.Get(pods, target.Namespace, name) ?? throw StatusError.NotFound("pods", string.Empty, name);
                destination = new Uri($"{scheme ?? "http"}://{Host(PodIp(pod))}{(port is null ? PodPort(pod) : ":" + port)}");
                invoker = workloads.Value;
                break;
            default:
                destination = ServiceEndpoint(target.Namespace!, name, scheme, port);
                invoker = workloads.Value;
                break;
        }

        var transformer = new ProxyTransformer(new Uri(destination, path + context.Request.QueryString.Value), bearer);
        var error = await forwarder.SendAsync(context, destination.GetLeftPart(UriPartial.Authority), invoker, Config, transformer).ConfigureAwait(false);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var failure = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            throw new StatusError(503, "ServiceUnavailable", $"error trying to reach {target.Resource[..^1]}: {failure?.Message ?? error.ToString()}");
        }
    }

    /// <summary>upstream's name forms: NAME, NAME:PORT, SCHEME:NAME:PORT (scheme http or https).</summary>
    private static (string? Scheme, string Name, string? Port) SplitName(string value)
    {
        var parts = value.Split(':');
        return parts switch
        {
            [var name] => (null, name, null),
            [var name, var port] => (null, name, port.Length > 0 ? port : null),
            ["http" or "https", var name, var port] => (parts[0], name, port.Length > 0 ? port : null),
            _ => throw StatusError.BadRequest($"invalid proxy target {value}"),
        };
    }

    private static string PodIp(CachedObject pod) =>
        pod.Root.TryGetProperty("status", out var status) && status.TryGetProperty("podIP", out var ip) && ip.GetString() is { Length: > 0 } address
            ? address
            : throw new StatusError(503, "ServiceUnavailable", $"address not allowed: pod {pod.Name} has no IP yet");

    /// <summary>Without a port, the first port a container declares (none: the scheme's default), as upstream.</summary>
    private static string PodPort(CachedObject pod)
    {
        if (pod.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("containers", out var containers) && containers.ValueKind == JsonValueKind.Array)
        {
            foreach (var container in containers.EnumerateArray())
            {
                if (container.TryGetProperty("ports", out var ports) && ports.ValueKind == JsonValueKind.Array)
                {
                    foreach (var port in ports.EnumerateArray())
                    {
                        if (port.TryGetProperty("containerPort", out var number) && number.ValueKind == JsonValueKind.Number)
                        {
                            return ":" + number.GetInt32().ToString(CultureInfo.InvariantCulture);
                        }
                    }
                }
            }
        }

        return string.Empty;
    }

    /// <summary>A ready address of the service's Endpoints on the port named (or numbered) in the request, or its only port.</summary>
    private Uri ServiceEndpoint(string ns, string name, string? scheme, string? requestedPort)
    {
        var services = registry.FindByGroupResource("services")!;
        var service = registry.Get(services, ns, name) ?? throw StatusError.NotFound("services", string.Empty, name);
        string? portName = null;
        var found = false;
        if (service.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("ports", out var ports) && ports.ValueKind == JsonValueKind.Array)
        {
            var all = ports.EnumerateArray().ToList();
            foreach (var port in all)
            {
                var pn = port.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty;
                var number = port.TryGetProperty("port", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32().ToString(CultureInfo.InvariantCulture) : string.Empty;
                if (requestedPort is null ? all.Count == 1 || pn.Length == 0 : requestedPort == pn || requestedPort == number)
                {
                    portName = pn;
                    found = true;
                    break;
                }
            }
        }

        if (!found)
        {
            throw new StatusError(503, "ServiceUnavailable", $"no endpoints available for service \"{name}\"");
        }

        var endpointsResource = registry.FindByGroupResource("endpoints")!;
        if (registry.Get(endpointsResource, ns, name) is { } endpoints && endpoints.Root.TryGetProperty("subsets", out var subsets) && subsets.ValueKind == JsonValueKind.Array)
        {
            var candidates = new List<string>();
            foreach (var subset in subsets.EnumerateArray())
            {
                if (!subset.TryGetProperty("ports", out var subsetPorts) || !subset.TryGetProperty("addresses", out var addresses))
                {
                    continue;
                }

                foreach (var port in subsetPorts.EnumerateArray())
                {
                    var pn = port.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty;
                    if (pn == portName && port.TryGetProperty("port", out var number))
                    {
                        candidates.AddRange(addresses.EnumerateArray()
                            .Select(a => a.TryGetProperty("ip", out var ip) ? ip.GetString() : null)
                            .OfType<string>()
                            .Select(ip => $"{scheme ?? "http"}://{Host(ip)}:{number.GetInt32().ToString(CultureInfo.InvariantCulture)}"));
                    }
                }
            }

            if (candidates.Count > 0)
            {
                return new Uri(candidates[Random.Shared.Next(candidates.Count)]);
            }
        }

        throw new StatusError(503, "ServiceUnavailable", $"no endpoints available for service \"{name}\"");
    }

    private static string Host(string ip) => IPAddress.TryParse(ip, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip;

    /// <summary>Sends the request to the resolved URL; the caller's Authorization goes nowhere, the agent gets the node token.</summary>
    private sealed class ProxyTransformer(Uri target, string? bearer) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.RequestUri = target;
            proxyRequest.Headers.Host = null;
            proxyRequest.Headers.Authorization = bearer is null ? null : new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }
    }
}

/// <summary>A proxy request: nodes, pods or services, the object's name (with scheme and port) and the path segments after "proxy".</summary>
internal readonly record struct ProxyTarget(string Resource, string? Namespace, string Name, string[] Path);
