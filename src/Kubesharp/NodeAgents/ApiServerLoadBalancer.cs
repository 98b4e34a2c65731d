using System.Net;
using System.Net.Sockets;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Endpoints;
using Microsoft.Extensions.Logging;

namespace Kubesharp.NodeAgents;

/// <summary>
/// The agent's way to several servers, as k3s's agent has: a TCP balancer on loopback that the agent's clients talk to.
/// Each new connection goes to the server that answered last, or to the next one that accepts it; TLS stays end to end
/// (every server's certificate names 127.0.0.1). The list is the server given at join plus those the kubernetes
/// Endpoints name, read again every period, so an agent joined to one server keeps working when that server dies.
/// </summary>
internal sealed partial class ApiServerLoadBalancer : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    private readonly TcpListener listener;
    private readonly DnsEndPoint joined;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task acceptLoop;
    private readonly Lock gate = new();
    private IReadOnlyList<EndPoint> servers;
    private EndPoint preferred;

    private ApiServerLoadBalancer(DnsEndPoint joined, ILogger logger)
    {
        this.joined = joined;
        this.logger = logger;
        servers = [joined];
        preferred = joined;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        acceptLoop = AcceptAsync(stopping.Token);
    }

    /// <summary>https://127.0.0.1:PORT: where the agent's clients send what was meant for the server.</summary>
    public Uri Url => new($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

    /// <summary>The servers connections may go to, the one joined first.</summary>
    public IReadOnlyList<EndPoint> Servers
    {
        get
        {
            lock (gate)
            {
                return servers;
            }
        }
    }

    public static ApiServerLoadBalancer Start(Uri server, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new ApiServerLoadBalancer(new DnsEndPoint(server.IdnHost, server.Port), logger);
    }

    /// <summary>Replaces the list with <paramref name="found"/>; the server joined at first always stays as a fallback.</summary>
    public void SetServers(IEnumerable<IPEndPoint> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var list = new List<EndPoint> { joined };
        list.AddRange(found.Where(f => !SameAs(f, joined)).Distinct());
        lock (gate)
        {
            var changed = list.Count != servers.Count || !list.Zip(servers).All(p => p.First.Equals(p.Second));
            if (changed && logger.IsEnabled(LogLevel.Information))
            {
                var names = string.Join(", ", list);
                LogServers(logger, names);
            }

            servers = list;
        }
    }

    /// <summary>Reads the kubernetes Endpoints every <paramref name="period"/> and balances over the servers they name.</summary>
    public async Task KeepServersAsync(KubernetesClient client, TimeSpan period, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var endpoints = await client.Resource<global::Kubesharp.Api.Core.V1.Endpoints>().GetAsync(KubernetesServiceEndpoints.Namespace, KubernetesServiceEndpoints.Name, cancellationToken).ConfigureAwait(false);
                SetServers(KubernetesServiceEndpoints.ServersOf(endpoints));
            }
            catch (Exception e) when (e is HttpRequestException or IOException or StatusException or TimeoutException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogListFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(period, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        listener.Dispose();
        try
        {
            await acceptLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        stopping.Dispose();
    }

    private static bool SameAs(IPEndPoint endpoint, DnsEndPoint joined) =>
        endpoint.Port == joined.Port && IPAddress.TryParse(joined.Host, out var address) && address.Equals(endpoint.Address);

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(accepted, cancellationToken);
        }
    }

    /// <summary>Connects to the preferred server, else to each other one in turn, then copies bytes both ways until either side closes.</summary>
    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        using var clientSocket = client;
        IReadOnlyList<EndPoint> candidates;
        EndPoint first;
        lock (gate)
        {
            candidates = servers;
            first = candidates.Contains(preferred) ? preferred : candidates[0];
        }

        Socket? upstream = null;
        foreach (var server in candidates.Where(c => c.Equals(first)).Concat(candidates.Where(c => !c.Equals(first))))
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
                upstream = socket;
                if (!server.Equals(first))
                {
                    LogFailedOver(logger, first.ToString()!, server.ToString()!);
                    lock (gate)
                    {
                        preferred = server;
                    }
                }

                break;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        if (upstream is null)
        {
            LogNoServer(logger, candidates.Count);
            return;
        }

        using var upstreamSocket = upstream;
        await using var clientStream = new NetworkStream(clientSocket, ownsSocket: false);
        await using var upstreamStream = new NetworkStream(upstreamSocket, ownsSocket: false);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = CopyAsync(clientStream, upstreamStream, done.Token);
        var down = CopyAsync(upstreamStream, clientStream, done.Token);
        await Task.WhenAny(up, down).ConfigureAwait(false);
        // One side closed: close both, so the client sees the server go and reconnects (to another one).
        await done.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(up, down).ConfigureAwait(false);
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, 64 * 1024, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Balancing the API over {Servers}")]
    private static partial void LogServers(ILogger logger, string servers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "API server {Failed} does not answer; using {Server}")]
    private static partial void LogFailedOver(ILogger logger, string failed, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "None of the {Count} API servers accepts a connection")]
    private static partial void LogNoServer(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the API servers from the kubernetes Endpoints: {Reason}")]
    private static partial void LogListFailed(ILogger logger, string reason);
}
