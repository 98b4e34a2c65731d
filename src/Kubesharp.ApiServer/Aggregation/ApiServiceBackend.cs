using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// A group-version an APIService routes to a Service: where requests go (the service and its port, the TLS trust), whether
/// the last availability check passed, and the resources its discovery document listed then (kept when it fails, and
/// published as stale).
/// </summary>
internal sealed record ApiServiceBackend(
    string Name,
    string Group,
    string Version,
    string ServiceNamespace,
    string ServiceName,
    int ServicePort,
    string CaBundle,
    bool InsecureSkipTlsVerify,
    bool Available,
    IReadOnlyList<ApiResource> Resources)
{
    /// <summary>The host the serving certificate must name, as upstream dials a service: NAME.NAMESPACE.svc.</summary>
    public string Host => $"{ServiceName}.{ServiceNamespace}.svc";
}
