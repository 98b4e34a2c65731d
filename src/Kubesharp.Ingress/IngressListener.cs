using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Kubesharp.Ingress.Gateway;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.Ingress;

/// <summary>
/// The HTTP and HTTPS listeners of the ingress controller: Kestrel in front of YARP's forwarder. Every request
/// reads the current <see cref="IngressRoutes"/>, so configuration changes never restart a listener; the TLS
/// certificate is chosen per handshake by SNI from the same routes.
/// </summary>
internal sealed partial class IngressListener : IAsyncDisposable
{
    // HTTP/1.1 to backends, as upstream controllers (and nginx's proxy_http_version 1.1) speak to plain-HTTP endpoints:
    // no version negotiation per request.
    private static readonly ForwarderRequestConfig Config = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(5),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    /// <summary>How long a mirrored request may take; its answer is never waited for by the client.</summary>
    private static readonly TimeSpan MirrorTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication app;
    private readonly HttpMessageInvoker invoker;
    private readonly X509Certificate2 fallbackCertificate;

    private IngressListener(WebApplication app, HttpMessageInvoker invoker, X509Certificate2 fallbackCertificate)
    {
        this.app = app;
        this.invoker = invoker;
        this.fallbackCertificate = fallbackCertificate;
    }

    /// <summary>The HTTP endpoint listened on (its port resolved when 0 was asked for).</summary>
    public IPEndPoint HttpEndpoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The HTTPS endpoint listened on.</summary>
    public IPEndPoint HttpsEndpoint { get; private set; } = new(IPAddress.Loopback, 0);

    public static async Task<IngressListener> StartAsync(IngressOptions options, Func<IngressRoutes> routes, Func<GatewayRoutes> gatewayRoutes, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        // Names no Ingress covers still complete a handshake, with a certificate that says whose it is (as
        // ingress-nginx's "fake certificate"), and then get the answer of the routes.
        var fallback = SelfSignedCertificate();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<ILoggerFactory>(new IngressLoggerFactory(loggerFactory));
        builder.Services.AddHttpForwarder();
        builder.WebHost.UseKestrelCore();
        // The proxy's request handling never blocks: running it on the socket's I/O thread saves a thread-pool hop per read.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.HttpEndpoint);
            kestrel.Listen(options.HttpsEndpoint, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = context => ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificate = gatewayRoutes().Certificate(context.ClientHelloInfo.ServerName) ?? routes().Certificate(context.ClientHelloInfo.ServerName) ?? fallback,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                }),
            }));
        });
        var app = builder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            // Trace headers a client sent pass through as headers; the proxy starts no Activity of its own per request.
            ActivityHeadersPropagator = null,
        });
        var listener = new IngressListener(app, invoker, fallback);
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var logger = loggerFactory.CreateLogger<IngressListener>();
        app.Run(context => listener.ForwardAsync(context, routes(), gatewayRoutes(), forwarder, logger));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        listener.HttpEndpoint = Resolve(options.HttpEndpoint, addresses, "http://");
        listener.HttpsEndpoint = Resolve(options.HttpsEndpoint, addresses, "https://");
        LogListening(logger, listener.HttpEndpoint, listener.HttpsEndpoint);
        return listener;
    }

    /// <summary>An attached HTTPRoute that matches wins over the Ingresses; then the Ingresses' rules and default backend.</summary>
    private async Task ForwardAsync(HttpContext context, IngressRoutes routes, GatewayRoutes gatewayRoutes, IHttpForwarder forwarder, ILogger logger)
    {
        IngressBackendPool? backend;
        HttpTransformer transformer = IngressTransformer.Instance;
        TimeSpan? timeout = null;
        if (gatewayRoutes.Match(context.Request) is { } rule)
        {
            // A filter that cannot be applied, an unresolved backendRef or a rule without any are answered 500, as upstream requires.
            if (rule.Filters.Broken)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }

            if (rule.Filters.Redirect is { } ruleRedirect)
            {
                ruleRedirect.Respond(context, rule.Path);
                return;
            }

            var choice = rule.Backend.Next();
            if (choice?.Pool is null || choice.Filters.Broken)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }

            if (choice.Filters.Redirect is { } redirect)
            {
                redirect.Respond(context, rule.Path);
                return;
            }

            backend = choice.Pool;
            transformer = choice.Transformer;
            timeout = rule.Timeout;
            if (choice.Filters.Mirrors.Count > 0)
            {
                await MirrorAsync(context, choice.Filters.Mirrors, logger).ConfigureAwait(false);
            }
        }
        else
        {
            backend = routes.Match(context.Request.Host.Host, context.Request.Path.Value ?? "/");
        }

        if (backend is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (backend.Next() is not { } destination)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        // A rule's timeout bounds the forwarding; YARP's own ActivityTimeout only bounds silence.
        using var deadline = timeout is { } bound ? new CancellationTokenSource(bound) : null;
        var error = await forwarder.SendAsync(context, destination, invoker, Config, transformer, deadline?.Token ?? CancellationToken.None).ConfigureAwait(false);
        if (error == ForwarderError.None || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (deadline?.IsCancellationRequested is true)
        {
            // 504 as upstream requires; once the response has begun, only cutting the connection tells the client.
            if (context.Response.HasStarted)
            {
                context.Abort();
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            }

            return;
        }

        LogForwardFailed(logger, backend.Service, destination, error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
    }

    /// <summary>
    /// Sends a copy of the request to each sampled mirror and forgets it: the answer is read and dropped, a failure only
    /// logged. A request body is read once, up to <see cref="GatewayMirror.BodyLimit"/>, so that the backend and the
    /// mirrors all get it whole; a larger body is not mirrored (logged) and streams to the backend as usual.
    /// </summary>
    private async Task MirrorAsync(HttpContext context, IReadOnlyList<GatewayMirror> mirrors, ILogger logger)
    {
        var request = context.Request;
        ReadOnlyMemory<byte>? body = null;
        foreach (var mirror in mirrors)
        {
            if (!mirror.Sample() || mirror.Pool.Next() is not { } destination)
            {
                continue;
            }

            if (body is null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody is true)
            {
                if (request.ContentLength > GatewayMirror.BodyLimit || await ReadBodyForMirrorsAsync(request, context.RequestAborted).ConfigureAwait(false) is not { } read)
                {
                    LogMirrorBodyTooLarge(logger, mirror.Pool.Service, GatewayMirror.BodyLimit);
                    return;
                }

                body = read;
            }

            var mirrored = new HttpRequestMessage(HttpMethod.Parse(request.Method), RequestUtilities.MakeDestinationAddress(destination, request.Path, request.QueryString))
            {
                Version = HttpVersion.Version11,
                Content = body is { } content ? new ReadOnlyMemoryContent(content) : null,
            };
            await IngressTransformer.Instance.TransformRequestAsync(context, mirrored, destination, CancellationToken.None).ConfigureAwait(false);
            _ = SendMirrorAsync(mirrored, mirror.Pool.Service, destination, logger);
        }
    }

    /// <summary>
    /// Reads the request body for the mirrors, at most <see cref="GatewayMirror.BodyLimit"/> bytes (a chunked body has no
    /// length to check first), and puts what was read back in front of the rest for the backend: the body, or null
    /// when it is larger than the limit.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyForMirrorsAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(request.ContentLength ?? 16 * 1024, GatewayMirror.BodyLimit) + 1];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > GatewayMirror.BodyLimit)
                {
                    break;
                }

                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, GatewayMirror.BodyLimit + 1));
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        request.Body = new ReplayedBodyStream(buffer.AsMemory(0, length), request.Body);
        if (length > GatewayMirror.BodyLimit)
        {
            return null;
        }

        return buffer.AsMemory(0, length);
    }

    private async Task SendMirrorAsync(HttpRequestMessage request, string service, string destination, ILogger logger)
    {
        try
        {
            using var timeout = new CancellationTokenSource(MirrorTimeout);
            using var response = await invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            await response.Content.CopyToAsync(Stream.Null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
        {
            LogMirrorFailed(logger, service, destination, e);
        }
        finally
        {
            request.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        invoker.Dispose();
        fallbackCertificate.Dispose();
    }

    private static IPEndPoint Resolve(IPEndPoint asked, List<string> addresses, string scheme)
    {
        if (asked.Port != 0)
        {
            return asked;
        }

        // Kestrel lists one address per listener; with a port of 0 the resolved one is the only way to learn it.
        var host = asked.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{asked.Address}]" : asked.Address.ToString();
        var address = addresses.First(a => a.StartsWith(scheme + host + ":", StringComparison.Ordinal));
        return new IPEndPoint(asked.Address, new Uri(address).Port);
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Kubesharp Ingress Controller Fake Certificate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var now = DateTimeOffset.UtcNow;
        // Its key is ephemeral, which TLS on Linux uses as it is.
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingress controller serving HTTP on {Http} and HTTPS on {Https}")]
    private static partial void LogListening(ILogger logger, IPEndPoint http, IPEndPoint https);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Mirrored request to {Service} at {Destination} failed")]
    private static partial void LogMirrorFailed(ILogger logger, string service, string destination, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request not mirrored to {Service}: its body is larger than {Limit} bytes")]
    private static partial void LogMirrorBodyTooLarge(ILogger logger, string service, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingress backend {Service} at {Destination} failed: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string service, string destination, ForwarderError error, Exception? exception);
}
