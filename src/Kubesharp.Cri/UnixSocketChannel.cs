using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Kubesharp.Cri;

/// <summary>
/// Makes the node's gRPC channels: to the container runtime, CSI drivers, device plugins and plugin registrars, all
/// reached over unix sockets. Every channel is made here so they share one transport setup.
/// </summary>
public static class UnixSocketChannel
{
    /// <summary>Largest response accepted (container and image lists of a busy node are large).</summary>
    private const int MaxReceiveMessageSize = 256 * 1024 * 1024;

    /// <summary>A channel to a gRPC server listening on the unix socket at <paramref name="socketPath"/>.</summary>
    public static GrpcChannel Create(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var endPoint = new UnixDomainSocketEndPoint(socketPath);
        var handler = CreateHandler();
        handler.ConnectCallback = async (_, cancellationToken) =>
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
        };

        // The host name is never resolved: every connection goes to the socket.
        return GrpcChannel.ForAddress("http://localhost", Options(handler));
    }

    /// <summary>
    /// A channel to a CRI endpoint as the kubelet's --container-runtime-endpoint names it: "unix:///path/to.sock",
    /// "unix:/path/to.sock", or an http(s) address.
    /// </summary>
    public static GrpcChannel ForEndpoint(string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            return Create(endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..] : endpoint["unix:".Length..]);
        }

        var uri = new Uri(endpoint, UriKind.Absolute);
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Unsupported gRPC address '{endpoint}'.", nameof(endpoint));
        }

        return GrpcChannel.ForAddress(uri, Options(CreateHandler()));
    }

    private static GrpcChannelOptions Options(SocketsHttpHandler handler) => new()
    {
        HttpHandler = handler,
        DisposeHttpClient = true,
        MaxReceiveMessageSize = MaxReceiveMessageSize,
    };

    private static SocketsHttpHandler CreateHandler() => new()
    {
        // Another connection once one connection's concurrent-stream limit is reached (many ListAndWatch streams).
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
    };
}
