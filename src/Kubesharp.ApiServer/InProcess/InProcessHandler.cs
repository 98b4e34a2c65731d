using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.ApiServer.InProcess;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that hands each request to the API server's request pipeline in this process,
/// as from a client presenting <see cref="certificate"/> over TLS, or as <see cref="user"/>, whom the transport itself
/// vouches for: authorization, admission, flow control, audit and watches run as for a remote client; TLS, HTTP/2
/// framing and sockets are skipped.
/// </summary>
internal sealed class InProcessHandler : HttpMessageHandler
{
    private readonly InProcessTransport transport;

    // The public certificate only, as a TLS handshake would have delivered it to the server.
    private readonly X509Certificate2? certificate;
    private readonly UserInfo? user;
    private readonly string connectionId;

    public InProcessHandler(InProcessTransport transport, X509Certificate2 clientCertificate)
    {
        this.transport = transport;
        certificate = X509CertificateLoader.LoadCertificate(clientCertificate.RawData);
        connectionId = transport.NextConnectionId();
    }

    public InProcessHandler(InProcessTransport transport, UserInfo user)
    {
        this.transport = transport;
        this.user = user;
        connectionId = transport.NextConnectionId();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var uri = request.RequestUri is { IsAbsoluteUri: true } absolute
            ? absolute
            : throw new InvalidOperationException("An in-process request needs an absolute URI (a client with a BaseAddress).");
        var body = request.Content is { } content ? await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false) : null;
        if (!transport.TryEnter())
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "The API server is stopped.");
        }

        var exchange = new InProcessExchange(transport, certificate, user, connectionId);
        try
        {
            var context = new DefaultHttpContext(Features(exchange));
            Describe(exchange, context, request, uri, body);
            exchange.MarkAwaited();

            // The pipeline runs on the thread pool, never on the caller's thread: a caller that fires requests without
            // awaiting them at once (the scheduler's binds) keeps its thread, as it would with a socket to write to.
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Exchange.RunAsync(state.Context), (Exchange: exchange, Context: (HttpContext)context), preferLocal: false);
        }
        catch
        {
            transport.Exit();
            throw;
        }

        if (!exchange.Finished && !exchange.HeadersSent)
        {
            try
            {
                await exchange.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                exchange.ClientClosed();
                throw;
            }
        }

        if (!exchange.HeadersSent && exchange.AbortedWith is { } reason)
        {
            // Ended before it answered (the server stopping): no response, as a reset stream gives none.
            throw new HttpRequestException(HttpRequestError.ResponseEnded, reason.Message, reason);
        }

        return Response(exchange, request);
    }

    private static FeatureCollection Features(InProcessExchange exchange)
    {
        var features = new FeatureCollection(10);
        features.Set<IHttpRequestFeature>(exchange);
        features.Set<IHttpResponseFeature>(exchange);
        features.Set<IHttpResponseBodyFeature>(exchange);
        features.Set<IHttpRequestLifetimeFeature>(exchange);
        features.Set<IHttpConnectionFeature>(exchange);
        features.Set<ITlsConnectionFeature>(exchange);
        features.Set<IHttpRequestBodyDetectionFeature>(exchange);
        features.Set<IServiceProvidersFeature>(exchange);
        if (exchange.User is not null)
        {
            features.Set<ITransportIdentityFeature>(exchange);
        }

        return features;
    }

    private static void Describe(InProcessExchange exchange, DefaultHttpContext context, HttpRequestMessage request, Uri uri, Stream? body)
    {
        exchange.Method = request.Method.Method;
        exchange.RawTarget = uri.PathAndQuery;
        exchange.Path = PathString.FromUriComponent(uri).Value ?? "/";
        exchange.QueryString = uri.Query;
        var headers = context.Request.Headers;
        foreach (var header in request.Headers.NonValidated)
        {
            headers[header.Key] = Values(header.Value);
        }

        if (request.Headers.Host is null)
        {
            headers.Host = uri.IsDefaultPort ? uri.Host : uri.Authority;
        }

        if (request.Content is { } content)
        {
            // Asked for first: a content that knows its length adds the header.
            _ = content.Headers.ContentLength;
            foreach (var header in content.Headers.NonValidated)
            {
                headers[header.Key] = Values(header.Value);
            }

            exchange.CanHaveBody = true;
        }

        context.Request.Body = body ?? Stream.Null;
    }

    private static Microsoft.Extensions.Primitives.StringValues Values(HeaderStringValues values) =>
        values.Count == 1 ? values.ToString() : values.ToArray();

    private static HttpResponseMessage Response(InProcessExchange exchange, HttpRequestMessage request)
    {
        var response = new HttpResponseMessage((HttpStatusCode)exchange.StatusCode)
        {
            Version = HttpVersion.Version20,
            RequestMessage = request,
            Content = new InProcessResponseContent(exchange.ResponseBody),
        };
        if (exchange.ReasonPhrase is { } reason)
        {
            response.ReasonPhrase = reason;
        }

        foreach (var (name, values) in exchange.ResponseHeaders)
        {
            if (!response.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                response.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            certificate?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The response body as HttpClient reads it: the pipe's read end, never buffered twice.</summary>
    private sealed class InProcessResponseContent(ResponseBodyStream body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => body.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            body.CopyToAsync(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(body);

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => Task.FromResult<Stream>(body);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                body.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
