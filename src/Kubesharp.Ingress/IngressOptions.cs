using System.Net;

namespace Kubesharp.Ingress;

/// <summary>How the built-in ingress controller serves: its class, its listeners and the address it reports.</summary>
public sealed class IngressOptions
{
    /// <summary>The name of the IngressClass installed at start (the cluster's default class).</summary>
    public const string DefaultClassName = "kubesharp";

    /// <summary>The <c>spec.controller</c> of the classes this controller implements.</summary>
    public const string ControllerName = "kubesharp.io/ingress-controller";

    /// <summary>The <c>spec.controllerName</c> of the GatewayClasses this controller implements.</summary>
    public const string GatewayControllerName = "kubesharp.io/gateway-controller";

    /// <summary>The name of the GatewayClass installed at start.</summary>
    public const string DefaultGatewayClassName = "kubesharp";

    /// <summary>Where plain HTTP is served (upstream controllers take the node's port 80).</summary>
    public IPEndPoint HttpEndpoint { get; set; } = new(IPAddress.Any, 80);

    /// <summary>Where TLS is served, the certificate chosen by SNI from the Ingresses' Secrets.</summary>
    public IPEndPoint HttpsEndpoint { get; set; } = new(IPAddress.Any, 443);

    /// <summary>The addresses written to <c>status.loadBalancer.ingress</c> of every Ingress served (the node's IP).</summary>
    public IReadOnlyList<string> StatusAddresses { get; set; } = [];

    /// <summary>Coalesces a burst of changes into one rebuild of the routes.</summary>
    public TimeSpan SyncDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Whether the default IngressClass <see cref="DefaultClassName"/> is created at start.</summary>
    public bool InstallDefaultClass { get; set; } = true;

    /// <summary>Whether Gateway API routes are served too (the definitions and the default GatewayClass installed at start).</summary>
    public bool GatewayApi { get; set; } = true;
}
