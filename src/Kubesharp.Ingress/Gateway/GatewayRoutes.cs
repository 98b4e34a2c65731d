using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// An immutable snapshot of the attached HTTPRoutes (one <see cref="GatewayHostTable"/> for the HTTP listeners and one
/// for the HTTPS listeners) and of the certificates of the HTTPS listeners. Built on every change and swapped in
/// whole, as <see cref="IngressRoutes"/>.
/// </summary>
internal sealed class GatewayRoutes(GatewayHostTable http, GatewayHostTable https, Dictionary<string, X509Certificate2> certificates, X509Certificate2? defaultCertificate)
{
    public static readonly GatewayRoutes Empty = new(GatewayHostTable.Empty, GatewayHostTable.Empty, new Dictionary<string, X509Certificate2>(StringComparer.Ordinal), null);

    /// <summary>The rule for a request, from the routes of the listeners of its scheme; null when none matches.</summary>
    public GatewayRouteRule? Match(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (request.IsHttps ? https : http).Match(request);
    }

    /// <summary>The certificate of the HTTPS listener for an SNI name: exact hostname, then the longest wildcard, then a listener without one.</summary>
    public X509Certificate2? Certificate(string? serverName)
    {
        if (serverName is { Length: > 0 })
        {
            var name = serverName.ToLowerInvariant();
            if (certificates.TryGetValue(name, out var exact))
            {
                return exact;
            }

            for (var dot = name.IndexOf('.', StringComparison.Ordinal); dot > 0; dot = name.IndexOf('.', dot + 1))
            {
                if (certificates.TryGetValue("*" + name[dot..], out var wild))
                {
                    return wild;
                }
            }
        }

        return defaultCertificate;
    }
}
