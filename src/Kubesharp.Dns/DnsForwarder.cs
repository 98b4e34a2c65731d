using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Dns;

/// <summary>
/// Relays a query to the node's resolvers, trying each in turn within a timeout. UDP queries go over UDP
/// (a truncated upstream answer is passed on so the client retries over TCP); TCP queries go over TCP.
/// </summary>
public sealed class DnsForwarder(IReadOnlyList<IPEndPoint> upstreams, TimeSpan timeout)
{
    public IReadOnlyList<IPEndPoint> Upstreams => upstreams;

    /// <summary>The upstream's response bytes, or null when none answered in time.</summary>
    public async Task<byte[]?> ForwardAsync(ReadOnlyMemory<byte> query, bool overTcp, CancellationToken cancellationToken)
    {
        foreach (var upstream in upstreams)
        {
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                var response = overTcp
                    ? await ForwardTcpAsync(upstream, query, timeoutSource.Token).ConfigureAwait(false)
                    : await ForwardUdpAsync(upstream, query, timeoutSource.Token).ConfigureAwait(false);
                if (response is not null)
                {
                    return response;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }
        }

        return null;
    }

    private static async Task<byte[]?> ForwardUdpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> query, CancellationToken cancellationToken)
    {
        using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(upstream, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[65535];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            // Ignore stray datagrams that do not answer our query.
            if (received >= 12 && buffer[0] == query.Span[0] && buffer[1] == query.Span[1])
            {
                return buffer.AsSpan(0, received).ToArray();
            }
        }
    }

    private static async Task<byte[]?> ForwardTcpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> query, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(upstream.AddressFamily);
        await client.ConnectAsync(upstream, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        await DnsTcpFraming.WriteAsync(stream, query, cancellationToken).ConfigureAwait(false);
        return await DnsTcpFraming.ReadAsync(stream, cancellationToken).ConfigureAwait(false);
    }
}
