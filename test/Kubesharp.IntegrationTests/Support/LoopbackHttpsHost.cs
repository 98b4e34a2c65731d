using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.IntegrationTests.Support;

/// <summary>
/// An HTTPS server on a loopback port with a serving certificate of its own throw-away CA, valid for 127.0.0.1 and the
/// DNS names given: what webhooks and extension API servers are, as the API server meets them (a caBundle to trust).
/// </summary>
public sealed class LoopbackHttpsHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private LoopbackHttpsHost(WebApplication app, string caPem, int port)
    {
        _app = app;
        CaPem = caPem;
        Port = port;
    }

    public string CaPem { get; }

    /// <summary>The CA, base64 PEM, as a clientConfig.caBundle or an APIService's spec.caBundle.</summary>
    public string CaBundle => Convert.ToBase64String(Encoding.UTF8.GetBytes(CaPem));

    public int Port { get; }

    public string Url(string path) => $"https://127.0.0.1:{Port}{path}";

    /// <param name="commonName">The serving certificate's subject CN.</param>
    /// <param name="dnsNames">Names the certificate is valid for besides 127.0.0.1.</param>
    /// <param name="handler">Answers every request.</param>
    /// <param name="configureHttps">Adjusts the TLS options, e.g. to ask for client certificates.</param>
    public static async Task<LoopbackHttpsHost> StartAsync(string commonName, IEnumerable<string> dnsNames, RequestDelegate handler, Action<HttpsConnectionAdapterOptions>? configureHttps = null)
    {
        // One instant for both certificates: the serving one may not outlive its CA.
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={commonName}-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // A positive, non-zero serial number.
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            var https = new HttpsConnectionAdapterOptions { ServerCertificate = serving };
            configureHttps?.Invoke(https);
            listen.UseHttps(https);
        }));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackHttpsHost(app, ca.ExportCertificatePem(), new Uri(address).Port);
    }

    /// <summary>Stops serving: the port closes.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
