using System.Net;
using Grpc.Net.Client;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Storage.Etcd;

/// <summary>One member's gRPC channel (Grpc.Net.Client) and the generated etcd service clients on it.</summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    private EtcdConnection(GrpcChannel channel)
    {
        _channel = channel;
        Kv = new KV.KVClient(channel);
        Watch = new Watch.WatchClient(channel);
        Maintenance = new Maintenance.MaintenanceClient(channel);
        Cluster = new Cluster.ClusterClient(channel);
    }

    public KV.KVClient Kv { get; }

    public Watch.WatchClient Watch { get; }

    public Maintenance.MaintenanceClient Maintenance { get; }

    public Cluster.ClusterClient Cluster { get; }

    /// <summary>A channel to "http://host:port" (cleartext HTTP/2) or "https://host:port" with <paramref name="ssl"/>.</summary>
    public static EtcdConnection Open(string address, System.Net.Security.SslClientAuthenticationOptions? ssl)
    {
        var handler = new SocketsHttpHandler
        {
            // More than one connection once a connection's concurrent-stream limit is reached (one stream per watch).
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (ssl is not null)
        {
            handler.SslOptions = ssl;
        }

        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // A list of many large objects comes back in one message; etcd bounds what it sends.
            MaxReceiveMessageSize = null,
            // Not ThrowOperationCanceledOnCancellation: it turns a passed deadline into a cancellation as well, and a
            // deadline means an unreachable member, not a caller that gave up. EtcdStore maps the caller's own.
            // A restarted member is tried again within a second; the store moves on to other members meanwhile.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(250),
            MaxReconnectBackoff = TimeSpan.FromSeconds(1),
        });
        return new EtcdConnection(channel);
    }

    public void Dispose() => _channel.Dispose();
}
