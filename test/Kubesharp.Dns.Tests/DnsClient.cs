using System.Net;
using System.Net.Sockets;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns.Tests;

/// <summary>Sends one query over real UDP or TCP sockets on loopback.</summary>
internal static class DnsClient
{
    private static int nextId;

    public static async Task<DnsMessage> QueryUdpAsync(IPEndPoint server, string name, DnsType type, ushort? edns = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server);
        var id = (ushort)Interlocked.Increment(ref nextId);
        await socket.SendAsync(DnsMessageWriter.Write(new DnsMessage { Id = id, RecursionDesired = true, Questions = [new DnsQuestion(name, type)], EdnsUdpSize = edns }), SocketFlags.None);
        var buffer = new byte[65535];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        var response = DnsMessageReader.Parse(buffer.AsSpan(0, received));
        Assert.Equal(id, response.Id);
        return response;
    }

    public static async Task<DnsMessage> QueryTcpAsync(IPEndPoint server, string name, DnsType type)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server);
        var stream = client.GetStream();
        var id = (ushort)Interlocked.Increment(ref nextId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await DnsTcpFraming.WriteAsync(stream, DnsMessageWriter.Write(new DnsMessage { Id = id, RecursionDesired = true, Questions = [new DnsQuestion(name, type)] }), timeout.Token);
        var bytes = await DnsTcpFraming.ReadAsync(stream, timeout.Token);
        var response = DnsMessageReader.Parse(Assert.IsType<byte[]>(bytes));
        Assert.Equal(id, response.Id);
        return response;
    }
}
