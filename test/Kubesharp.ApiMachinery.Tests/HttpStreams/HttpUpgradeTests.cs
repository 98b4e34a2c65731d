using System.Net;
using System.Net.Sockets;
using System.Text;
using Kubesharp.ApiMachinery.HttpStreams;

namespace Kubesharp.ApiMachinery.Tests.HttpStreams;

public sealed class HttpUpgradeTests
{
    [Fact]
    public async Task SendAsync_ServerSwitchesProtocols_BytesAfterTheHeadBelongToTheStream()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var stream = new NetworkStream(socket);
            var request = await ReadHeadAsync(stream);
            // The head and the first upgraded bytes in one write: the client must not swallow "ping".
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nping"));
            var echo = new byte[4];
            await stream.ReadExactlyAsync(echo);
            await stream.WriteAsync(echo);
            return request;
        });

        await using var response = await HttpUpgrade.SendAsync(
            new Uri($"http://127.0.0.1:{port}/exec/token?x=1"), "POST",
            [new("Connection", "Upgrade"), new("Upgrade", "SPDY/3.1"), new("X-Stream-Protocol-Version", "v4.channel.k8s.io"), new("X-Stream-Protocol-Version", "v3.channel.k8s.io")],
            null, CancellationToken.None);
        var first = new byte[4];
        await response.Stream.ReadExactlyAsync(first);
        await response.Stream.WriteAsync(Encoding.ASCII.GetBytes("pong"));
        var echoed = new byte[4];
        await response.Stream.ReadExactlyAsync(echoed);

        Assert.True(response.Upgraded);
        Assert.Equal("v4.channel.k8s.io", response.Header("x-stream-protocol-version"));
        Assert.Equal("ping", Encoding.ASCII.GetString(first));
        Assert.Equal("pong", Encoding.ASCII.GetString(echoed));
        var head = await server;
        Assert.StartsWith($"POST /exec/token?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n", head, StringComparison.Ordinal);
        Assert.Contains("X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadBodyAsync_ChunkedRefusal_Decoded()
    {
        var raw = "5\r\nnot u\r\n9\r\npgradable\r\n0\r\n\r\n";
        var response = new UpgradeResponse(400, "Bad Request", [new("Transfer-Encoding", "chunked")], new MemoryStream(Encoding.ASCII.GetBytes(raw)));

        var body = await response.ReadBodyAsync(1024, CancellationToken.None);

        Assert.Equal("not upgradable", Encoding.ASCII.GetString(body));
    }

    [Fact]
    public void Parse_MalformedStatusLine_Throws()
    {
        Assert.Throws<IOException>(() => HttpUpgrade.Parse("SPDY nonsense", Stream.Null));
    }

    [Fact]
    public void Forwarded_RequestHeaders_CredentialsStayBehind()
    {
        var incoming = new Dictionary<string, IEnumerable<string>>
        {
            ["Authorization"] = ["Bearer secret"],
            ["Upgrade"] = ["SPDY/3.1"],
            ["Connection"] = ["keep-alive, Upgrade"],
            ["X-Stream-Protocol-Version"] = ["v4.channel.k8s.io", "v3.channel.k8s.io"],
            ["Sec-WebSocket-Protocol"] = ["v5.channel.k8s.io"],
        };

        var forwarded = UpgradeHeaders.Forwarded(incoming).ToList();

        Assert.Equal(
            ["Connection: Upgrade", "Upgrade: SPDY/3.1", "X-Stream-Protocol-Version: v4.channel.k8s.io", "X-Stream-Protocol-Version: v3.channel.k8s.io", "Sec-WebSocket-Protocol: v5.channel.k8s.io"],
            forwarded.Select(h => $"{h.Key}: {h.Value}"));
    }

    [Fact]
    public async Task RunAsync_OneSideCloses_BothDirectionsDelivered()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var clientSide = new TcpClient();
        await clientSide.ConnectAsync(IPAddress.Loopback, port);
        using var serverSide = await listener.AcceptTcpClientAsync();
        var backend = new MemoryStream(Encoding.ASCII.GetBytes("from-backend"));
        var sink = new MemoryStream();
        await using var duplex = new DuplexStream(backend, sink);

        var splice = StreamSplice.RunAsync(serverSide.GetStream(), duplex, CancellationToken.None);
        var received = new byte["from-backend".Length];
        await clientSide.GetStream().ReadExactlyAsync(received);
        await splice;

        Assert.Equal("from-backend", Encoding.ASCII.GetString(received));
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>A stream that reads from one buffer and writes to another.</summary>
    private sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => write.Flush();

        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);
    }
}
