using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// The HTTPS clients that reach extension API servers: the front-proxy client certificate presented, the serving
/// certificate checked against the APIService's caBundle for the name NAME.NAMESPACE.svc (or not at all with
/// insecureSkipTLSVerify), and that name dialed at the service's endpoint. One pooled handler per trust setting.
/// </summary>
internal sealed class ApiServiceTransport(ServiceEndpointResolver resolver, FrontProxyCertificates frontProxy) : IDisposable
{
    private readonly ConcurrentDictionary<(string CaBundle, bool Insecure), HttpMessageInvoker> _invokers = new();

    public HttpMessageInvoker For(ApiServiceBackend backend) =>
        _invokers.GetOrAdd((backend.CaBundle, backend.InsecureSkipTlsVerify), key => new HttpMessageInvoker(CreateHandler(key.CaBundle, key.Insecure)));

    private SocketsHttpHandler CreateHandler(string caBundle, bool insecure)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ActivityHeadersPropagator = null,
            // Endpoints move; a connection is not kept past a while.
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            ConnectCallback = ConnectAsync,
            // Several values of one header travel as several lines (see RepeatedHeaderStream).
            PlaintextStreamFilter = (context, _) => ValueTask.FromResult<Stream>(
                context.NegotiatedHttpVersion == HttpVersion.Version11 ? new RepeatedHeaderStream(context.PlaintextStream) : context.PlaintextStream),
        };
        handler.SslOptions.ClientCertificates = [frontProxy.Client];
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => frontProxy.Client;
        if (insecure)
        {
#pragma warning disable CA5359 // the APIService asks for it (insecureSkipTLSVerify), as upstream honours it
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
            return handler;
        }

        var roots = new X509Certificate2Collection();
        if (caBundle.Length > 0)
        {
            try
            {
                roots.ImportFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(caBundle)));
            }
            catch (Exception ex) when (ex is FormatException or System.Security.Cryptography.CryptographicException)
            {
                // An unreadable bundle trusts nothing: every call fails verification.
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || roots.Count == 0 || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var presented = new X509Certificate2(certificate);
                return chain.Build(presented);
            };
        }

        return handler;
    }

    /// <summary>NAME.NAMESPACE.svc is dialed at the service's endpoint; TLS still checks the service name.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        EndPoint endpoint = target;
        if (target.Host.EndsWith(".svc", StringComparison.Ordinal) && target.Host.Split('.') is [var name, var ns, "svc"])
        {
            var resolution = resolver.Resolve(ns, name, target.Port);
            endpoint = resolution.Endpoint ?? throw new HttpRequestException(resolution.Message, new SocketException((int)SocketError.HostNotFound));
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers.Values)
        {
            invoker.Dispose();
        }
    }
}
