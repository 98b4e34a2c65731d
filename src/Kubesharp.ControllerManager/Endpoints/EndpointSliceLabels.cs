namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>Labels and names the endpoint controllers share with every consumer of EndpointSlices.</summary>
public static class EndpointSliceLabels
{
    public const string ServiceName = "kubernetes.io/service-name";
    public const string ManagedBy = "endpointslice.kubernetes.io/managed-by";
    public const string ControllerName = "endpointslice-controller.k8s.io";

    /// <summary>Set on a Service to keep the controller off it (upstream: service.kubernetes.io/headless is not it).</summary>
    public const string SkipMirror = "endpointslice.kubernetes.io/skip-mirror";

    /// <summary>Upstream's default maximum number of endpoints per slice.</summary>
    public const int MaxEndpointsPerSlice = 100;

    /// <summary>Upstream truncates core/v1 Endpoints at this many addresses.</summary>
    public const int MaxEndpointsPerEndpoints = 1000;

    public const string EndpointsOverCapacity = "endpoints.kubernetes.io/over-capacity";
}
