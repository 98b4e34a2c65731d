using System.Net;
using System.Net.Sockets;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns.Tests;

/// <summary>A resolver on loopback (UDP and TCP) that answers every A question with 192.0.2.7, standing in for the node's resolvers.</summary>
internal sealed class FakeUpstreamResolver : IAsyncDisposable
{
    public static readonly IPAddress Answer = IPAddress.Parse("192.0.2.7");

    private readonly Socket udp;
    private readonly TcpListener tcp;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task[] loops;
    private int queries;

    public FakeUpstreamResolver()
    {
        // UDP and TCP share one port number; the TCP side of an ephemeral UDP port may be taken, so try a few.
        for (var attempt = 0; ; attempt++)
        {
            udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Endpoint = (IPEndPoint)udp.LocalEndPoint!;
            tcp = new TcpListener(IPAddress.Loopback, Endpoint.Port);
            try
            {
                tcp.Start();
                break;
            }
            catch (SocketException) when (attempt < 20)
            {
                udp.Dispose();
            }
        }
        loops = [Task.Run(ServeUdpAsync), Task.Run(ServeTcpAsync)];
    }

    public IPEndPoint Endpoint { get; }

    public int Queries => Volatile.Read(ref queries);

    private static byte[] Respond(byte[] query)
    {
        var request = DnsMessageReader.Parse(query);
        return DnsMessageWriter.Write(new DnsMessage
        {
            Id = request.Id,
            IsResponse = true,
            RecursionAvailable = true,
            Questions = request.Questions,
            Answers = [new DnsRecord(request.Questions[0].Name, DnsType.A, 60, new AddressData(Answer))],
        });
    }

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[2048];
        try
        {
            while (true)
            {
                var received = await udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stopping.Token);
                Interlocked.Increment(ref queries);
                await udp.SendToAsync(Respond(buffer[..received.ReceivedBytes]), SocketFlags.None, received.RemoteEndPoint, stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeTcpAsync()
    {
        try
        {
            while (true)
            {
                using var client = await tcp.AcceptTcpClientAsync(stopping.Token);
                var stream = client.GetStream();
                var query = await DnsTcpFraming.ReadAsync(stream, stopping.Token);
                if (query is not null)
                {
                    Interlocked.Increment(ref queries);
                    await DnsTcpFraming.WriteAsync(stream, Respond(query), stopping.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException or InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        udp.Dispose();
        tcp.Stop();
        await Task.WhenAll(loops);
        tcp.Dispose();
        stopping.Dispose();
    }
}
