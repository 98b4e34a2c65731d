namespace Kubesharp.Proxy;

/// <summary>Everything the proxy programs for one port of one Service.</summary>
public sealed record ServicePortRule(
    string Namespace,
    string Name,
    string PortName,
    string Protocol,
    IReadOnlyList<string> ClusterIps,
    int Port,
    int? NodePort,
    IReadOnlyList<string> ExternalIps,
    int? AffinityTimeoutSeconds,
    IReadOnlyList<ServiceProxyEndpoint> Endpoints)
{
    /// <summary>namespace/name:port, as upstream names a service port.</summary>
    public string Key => $"{Namespace}/{Name}:{PortName}";

    /// <summary>The endpoints traffic goes to: ready ones, else serving terminating ones (graceful termination).</summary>
    public IReadOnlyList<ServiceProxyEndpoint> UsableEndpoints
    {
        get
        {
            var ready = Endpoints.Where(e => e.Ready).ToList();
            return ready.Count > 0 ? ready : [.. Endpoints.Where(e => e.Serving && e.Terminating)];
        }
    }
}
