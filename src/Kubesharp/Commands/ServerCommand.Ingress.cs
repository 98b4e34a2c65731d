using System.CommandLine;
using System.Net;
using Kubesharp.Ingress;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Commands;

/// <summary>The built-in ingress controller of <c>kubesharp server</c>: its flags and how it runs beside the API server.</summary>
internal static partial class ServerCommand
{
    /// <summary>The flags of the ingress controller.</summary>
    private sealed record IngressFlags(Option<bool> Disable, Option<int> HttpPort, Option<int> HttpsPort, Option<string> BindAddress)
    {
        public static IngressFlags Create() => new(
            new Option<bool>("--disable-ingress") { Description = $"Do not run the built-in ingress controller (nor install the default IngressClass {IngressOptions.DefaultClassName})." },
            new Option<int>("--ingress-http-port") { Description = "Port the ingress controller serves HTTP on; a server without its node (--disable-agent) serves Ingresses only when given this.", DefaultValueFactory = _ => 80 },
            new Option<int>("--ingress-https-port") { Description = "Port the ingress controller serves HTTPS on (certificates from the Ingresses' TLS Secrets, chosen by SNI).", DefaultValueFactory = _ => 443 },
            new Option<string>("--ingress-bind-address") { Description = "Address the ingress controller listens on.", DefaultValueFactory = _ => "0.0.0.0" });

        public IEnumerable<Option> All => [Disable, HttpPort, HttpsPort, BindAddress];

        /// <summary>The controller's options, null when it does not run; an error when the flags cannot be used.</summary>
        public IngressOptions? Read(ParseResult result, bool agent, bool disabled, IPAddress statusAddress, out string? error)
        {
            error = null;
            var explicitPort = result.GetResult(HttpPort) is { Implicit: false };
            if (result.GetValue(Disable) || disabled || (!agent && !explicitPort))
            {
                return null;
            }

            if (!IPAddress.TryParse(result.GetValue(BindAddress), out var bind))
            {
                error = $"--ingress-bind-address {result.GetValue(BindAddress)} is not an IP address";
                return null;
            }

            if (result.GetValue(HttpPort) is < 0 or > 65535 || result.GetValue(HttpsPort) is < 0 or > 65535)
            {
                error = "--ingress-http-port and --ingress-https-port must be ports (0-65535)";
                return null;
            }

            return new IngressOptions
            {
                HttpEndpoint = new IPEndPoint(bind, result.GetValue(HttpPort)),
                HttpsEndpoint = new IPEndPoint(bind, result.GetValue(HttpsPort)),
                StatusAddresses = [statusAddress.ToString()],
            };
        }
    }

    /// <summary>
    /// Runs the ingress controller in its own process (<see cref="IngressProxy.IngressProxyProcess"/>) with the server's
    /// admin credentials until the server stops; a port it cannot take is logged by it, not fatal to the server.
    /// </summary>
    private static Task RunIngressAsync(string kubeconfig, IngressOptions? options, IReadOnlyList<string> logArguments, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        options is null
            ? Task.CompletedTask
            : new IngressProxy.IngressProxyProcess(options, kubeconfig, logArguments, loggerFactory.CreateLogger<IngressProxy.IngressProxyProcess>(), TimeProvider.System).RunAsync(cancellationToken);
}
