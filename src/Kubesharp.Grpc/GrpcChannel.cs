using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Kubesharp.Grpc;

/// <summary>
/// A gRPC client connection over HTTP/2: cleartext TCP (prior knowledge), TLS, or a unix socket.
/// Thread-safe; calls are multiplexed as HTTP/2 streams over pooled connections.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private static readonly Version Http2 = new(2, 0);
    private readonly HttpMessageInvoker invoker;
    private readonly Uri baseAddress;

    private GrpcChannel(Uri baseAddress, HttpMessageHandler handler, bool disposeHandler, GrpcChannelOptions options)
    {
        this.baseAddress = baseAddress;
        invoker = new HttpMessageInvoker(handler, disposeHandler);
        MaxReceiveMessageSize = options.MaxReceiveMessageSize;
        TimeProvider = options.TimeProvider;
        Target = baseAddress.ToString();
    }

    /// <summary>The address the channel was made for.</summary>
    public string Target { get; private init; }

    internal int MaxReceiveMessageSize { get; }

    internal TimeProvider TimeProvider { get; }

    /// <summary>
    /// Opens a channel to "http://host:port" (h2c), "https://host:port" (TLS, ALPN h2),
    /// "unix:///path/to.sock" or "unix:/path/to.sock". Connections are made on first use.
    /// </summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        options ??= new GrpcChannelOptions();
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = address.StartsWith("unix://", StringComparison.Ordinal) ? address["unix://".Length..] : address["unix:".Length..];
            return ForUnixSocket(path, options);
        }

        var uri = new Uri(address, UriKind.Absolute);
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Unsupported gRPC address '{address}'.", nameof(address));
        }

        if (options.HttpHandler is { } custom)
        {
            return new GrpcChannel(uri, custom, disposeHandler: false, options);
        }

        return new GrpcChannel(uri, CreateHandler(options, connect: null), disposeHandler: true, options) { Target = address };
    }

    /// <summary>Opens a channel to a gRPC server listening on a unix domain socket.</summary>
    public static GrpcChannel ForUnixSocket(string path, GrpcChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new GrpcChannelOptions();
        var endPoint = new UnixDomainSocketEndPoint(path);
        var handler = CreateHandler(options, async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
        return new GrpcChannel(new Uri("http://localhost"), handler, disposeHandler: true, options) { Target = "unix://" + path };
    }

    /// <summary>A call with one request and one response.</summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, CallOptions? options = null, CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using var call = new GrpcCall<TResponse>(this, method.ResponseParser, options ?? CallOptions.Default, cancellationToken);
        call.Start(CreateRequest(method.FullName, options, CreateUnaryContent(request)));
        var response = await call.ReadNextAsync(CancellationToken.None)
            ?? throw new RpcException(StatusCode.Internal, "The server sent no response message.");
        if (await call.ReadNextAsync(CancellationToken.None) is not null)
        {
            throw new RpcException(StatusCode.Internal, "The server sent more than one response message to a unary call.");
        }

        return response;
    }

    /// <summary>A unary call by full method name ("/package.Service/Method").</summary>
    public Task<TResponse> UnaryAsync<TRequest, TResponse>(
        string fullMethodName, TRequest request, MessageParser<TResponse> responseParser, CallOptions? options = null, CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        UnaryAsync(new Method<TRequest, TResponse>(fullMethodName, responseParser), request, options, cancellationToken);

    /// <summary>A call with one request and a stream of responses; the stream ends when the server ends it with OK.</summary>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, CallOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using var call = new GrpcCall<TResponse>(this, method.ResponseParser, options ?? CallOptions.Default, cancellationToken);
        call.Start(CreateRequest(method.FullName, options, CreateUnaryContent(request)));
        while (await call.ReadNextAsync(CancellationToken.None) is { } message)
        {
            yield return message;
        }
    }

    /// <summary>Starts a bidirectional streaming call; the request stream stays open until completed or disposed.</summary>
    public DuplexStreamingCall<TRequest, TResponse> DuplexStreaming<TRequest, TResponse>(
        Method<TRequest, TResponse> method, CallOptions? options = null, CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = new GrpcCall<TResponse>(this, method.ResponseParser, options ?? CallOptions.Default, cancellationToken);
        var content = new StreamingRequestContent();
        call.Start(CreateRequest(method.FullName, options, content));
        return new DuplexStreamingCall<TRequest, TResponse>(call, content);
    }

    public void Dispose() => invoker.Dispose();

    internal Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        invoker.SendAsync(request, cancellationToken);

    private HttpRequestMessage CreateRequest(string fullMethodName, CallOptions? options, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, fullMethodName))
        {
            Version = Http2,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        request.Headers.TryAddWithoutValidation("User-Agent", "kubesharp-grpc/1.0");
        if (options?.Headers is { } headers)
        {
            foreach (var entry in headers)
            {
                request.Headers.TryAddWithoutValidation(entry.Key, entry.Value);
            }
        }

        return request;
    }

    private static ByteArrayContent CreateUnaryContent(IMessage message)
    {
        var content = new ByteArrayContent(GrpcFraming.Frame(message));
        content.Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
        return content;
    }

    private static SocketsHttpHandler CreateHandler(
        GrpcChannelOptions options, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect)
    {
        var handler = new SocketsHttpHandler
        {
            // More than one connection once a connection's concurrent-stream limit is reached (many watches).
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (connect is not null)
        {
            handler.ConnectCallback = connect;
        }

        if (options.SslOptions is { } ssl)
        {
            handler.SslOptions = ssl;
        }

        if (options.KeepAlivePingDelay is { } delay)
        {
            handler.KeepAlivePingDelay = delay;
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        }

        return handler;
    }
}
