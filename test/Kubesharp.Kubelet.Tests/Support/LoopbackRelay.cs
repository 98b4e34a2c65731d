using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>
/// Relays TCP connections from a loopback port to a target, and can cut every open connection at once: what a
/// client sees when its network drops, while new connections still get through.
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly List<(TcpClient Client, TcpClient Upstream)> open = [];
    private readonly Task accepting;

    public LoopbackRelay(IPEndPoint target)
    {
        this.target = target;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>How many connections have been cut so far.</summary>
    public int Cut { get; private set; }

    /// <summary>Resets every connection open now and says how many there were.</summary>
    public int CutAll()
    {
        lock (gate)
        {
            var count = open.Count;
            foreach (var (client, upstream) in open)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                upstream.Dispose();
                Cut++;
            }

            open.Clear();
            return count;
        }
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(target, stopping.Token);
            lock (gate)
            {
                open.Add((client, upstream));
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            var up = client.GetStream().CopyToAsync(upstream.GetStream(), either.Token);
            var down = upstream.GetStream().CopyToAsync(client.GetStream(), either.Token);
            await Task.WhenAny(up, down);
            await either.CancelAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (gate)
            {
                open.Remove((client, upstream));
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        CutAll();
        await accepting;
        stopping.Dispose();
    }
}
