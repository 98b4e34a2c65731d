using System.Net;
using System.Net.Sockets;
using Kubesharp.Dns.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Dns;

/// <summary>
/// The cluster DNS server on UDP and TCP: cluster names from <see cref="ClusterDnsZone"/>, the rest relayed
/// by <see cref="DnsForwarder"/>. <see cref="Start"/> binds; disposal stops and releases the sockets.
/// </summary>
public sealed partial class ClusterDnsServer : IAsyncDisposable
{
    /// <summary>The EDNS(0) payload size we advertise (the DNS flag day 2020 value).</summary>
    public const ushort EdnsPayloadSize = 1232;

    private readonly ClusterDnsZone zone;
    private readonly DnsForwarder forwarder;
    private readonly ClusterDnsOptions options;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> loops = [];
    private Socket? udp;
    private TcpListener? tcp;

    public ClusterDnsServer(ClusterDnsZone zone, DnsForwarder forwarder, ClusterDnsOptions options, ILogger? logger = null)
    {
        this.zone = zone;
        this.forwarder = forwarder;
        this.options = options;
        this.logger = logger ?? NullLogger.Instance;
    }

    public IPEndPoint? UdpEndpoint { get; private set; }

    public IPEndPoint? TcpEndpoint { get; private set; }

    /// <summary>Binds UDP and TCP (TCP on the port UDP got when the configured port is 0) and starts serving.</summary>
    public void Start()
    {
        var endpoint = options.ListenEndpoint;
        udp = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(endpoint);
        UdpEndpoint = (IPEndPoint)udp.LocalEndPoint!;
        tcp = new TcpListener(new IPEndPoint(endpoint.Address, UdpEndpoint.Port));
        tcp.Start(512);
        TcpEndpoint = (IPEndPoint)tcp.LocalEndpoint;
        loops.Add(Task.Run(() => ServeUdpAsync(udp, stopping.Token)));
        loops.Add(Task.Run(() => ServeTcpAsync(tcp, stopping.Token)));
        LogListening(logger, UdpEndpoint);
    }

    /// <summary>Answers one query message (exposed for benchmarks and tests of the decision logic).</summary>
    public async ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, bool overTcp, CancellationToken cancellationToken)
    {
        DnsMessage request;
        try
        {
            request = DnsMessageReader.Parse(query.Span);
        }
        catch (DnsFormatException)
        {
            return DnsMessageReader.PeekId(query.Span) is { } id
                ? DnsMessageWriter.Write(new DnsMessage { Id = id, IsResponse = true, ResponseCode = DnsResponseCode.FormatError })
                : null;
        }

        if (request.IsResponse)
        {
            return null;
        }

        if (request.Opcode != 0 || request.Questions.Count != 1)
        {
            return Reply(request, request.Opcode != 0 ? DnsResponseCode.NotImplemented : DnsResponseCode.FormatError, overTcp);
        }

        var question = request.Questions[0];
        var answer = question.Class == DnsMessage.ClassInternet ? zone.Answer(question) : null;
        if (answer is not null)
        {
            var response = new DnsMessage
            {
                Id = request.Id,
                IsResponse = true,
                Authoritative = true,
                RecursionDesired = request.RecursionDesired,
                RecursionAvailable = true,
                ResponseCode = answer.ResponseCode,
                Questions = request.Questions,
                Answers = answer.Answers,
                Authorities = answer.Authorities,
                Additionals = answer.Additionals,
                EdnsUdpSize = request.EdnsUdpSize is null ? null : EdnsPayloadSize,
            };
            return DnsMessageWriter.Write(response, MaxSize(request, overTcp));
        }

        var forwarded = await forwarder.ForwardAsync(query, overTcp, cancellationToken).ConfigureAwait(false);
        if (forwarded is null)
        {
            LogForwardFailed(logger, question.Name);
            return Reply(request, DnsResponseCode.ServerFailure, overTcp);
        }

        return forwarded;
    }

    private static int MaxSize(DnsMessage request, bool overTcp) =>
        overTcp ? ushort.MaxValue : Math.Clamp((int)(request.EdnsUdpSize ?? DnsMessage.ClassicUdpSize), DnsMessage.ClassicUdpSize, (int)EdnsPayloadSize);

    private static byte[] Reply(DnsMessage request, DnsResponseCode code, bool overTcp) =>
        DnsMessageWriter.Write(new DnsMessage
        {
            Id = request.Id,
            IsResponse = true,
            Opcode = request.Opcode,
            RecursionDesired = request.RecursionDesired,
            RecursionAvailable = true,
            ResponseCode = code,
            Questions = request.Questions,
        }, MaxSize(request, overTcp));

    private async Task ServeUdpAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[65535];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            var query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var client = received.RemoteEndPoint;
            _ = RespondUdpAsync(socket, query, client, cancellationToken);
        }
    }

    private async Task RespondUdpAsync(Socket socket, byte[] query, EndPoint client, CancellationToken cancellationToken)
    {
        try
        {
            var response = await HandleAsync(query, overTcp: false, cancellationToken).ConfigureAwait(false);
            if (response is not null)
            {
                await socket.SendToAsync(response, SocketFlags.None, client, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogQueryFailed(logger, e);
        }
    }

    private async Task ServeTcpAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            _ = ServeConnectionAsync(client, cancellationToken);
        }
    }

    private async Task ServeConnectionAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            var stream = client.GetStream();
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    idle.CancelAfter(options.TcpIdleTimeout);
                    var query = await DnsTcpFraming.ReadAsync(stream, idle.Token).ConfigureAwait(false);
                    if (query is null)
                    {
                        return;
                    }

                    var response = await HandleAsync(query, overTcp: true, cancellationToken).ConfigureAwait(false);
                    if (response is null)
                    {
                        return;
                    }

                    await DnsTcpFraming.WriteAsync(stream, response, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogQueryFailed(logger, e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        udp?.Dispose();
        tcp?.Stop();
        await Task.WhenAll(loops).ConfigureAwait(false);
        tcp?.Dispose();
        stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster DNS listening on {Endpoint} (UDP and TCP)")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No upstream resolver answered for {Name}")]
    private static partial void LogForwardFailed(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "A DNS query failed")]
    private static partial void LogQueryFailed(ILogger logger, Exception exception);
}
