using System.Buffers;
using System.Buffers.Binary;
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

    private const int OptRecordSize = 11;

    private readonly ClusterDnsZone zone;
    private readonly ClusterDnsResponseCache cache;
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
        cache = new ClusterDnsResponseCache(zone);
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
        for (var attempt = 0; ; attempt++)
        {
            udp = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(endpoint);
            UdpEndpoint = (IPEndPoint)udp.LocalEndPoint!;
            tcp = new TcpListener(new IPEndPoint(endpoint.Address, UdpEndpoint.Port));
            try
            {
                tcp.Start(512);
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && endpoint.Port == 0 && attempt < 20)
            {
                // The ephemeral UDP port is taken for TCP: pick another pair.
                tcp.Dispose();
                udp.Dispose();
            }
        }

        TcpEndpoint = (IPEndPoint)tcp.LocalEndpoint;
        for (var i = 0; i < UdpReceivers; i++)
        {
            var socket = udp;
            loops.Add(Task.Factory.StartNew(() => ServeUdp(socket, stopping.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        }

        loops.Add(Task.Run(() => ServeTcpAsync(tcp, stopping.Token)));
        LogListening(logger, UdpEndpoint);
    }

    /// <summary>
    /// Threads blocked in a receive on the UDP socket: the kernel hands each datagram to one of them, so a query
    /// is answered while another is being read, without a thread-pool hop per query.
    /// </summary>
    private static int UdpReceivers => Math.Clamp(Environment.ProcessorCount, 2, 8);

    /// <summary>Answers one query message (exposed for benchmarks and tests of the decision logic).</summary>
    public async ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, bool overTcp, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ushort.MaxValue);
        try
        {
            var length = TryAnswerFromCache(query.Span, buffer, overTcp);
            if (length > 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await HandleUncachedAsync(query, overTcp, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the response to a plain query about a cluster name into <paramref name="response"/> from the
    /// precomputed one, patching ID, RD bit, the question's letter case and the OPT record; 0 when the query
    /// needs the general path (forwarding, errors, an answer that must be truncated).
    /// </summary>
    internal int TryAnswerFromCache(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp)
    {
        if (!DnsQuery.TryRead(query, out var request) || request.Class != DnsMessage.ClassInternet)
        {
            return 0;
        }

        Span<byte> key = stackalloc byte[request.QuestionLength];
        request.WriteKey(query, key);
        if (cache.Get(key) is not { } cached)
        {
            return 0;
        }

        var edns = request.EdnsUdpSize >= 0;
        var length = cached.Length + (edns ? OptRecordSize : 0);
        var maxSize = overTcp ? ushort.MaxValue : edns ? Math.Clamp(request.EdnsUdpSize, DnsMessage.ClassicUdpSize, EdnsPayloadSize) : DnsMessage.ClassicUdpSize;
        if (length > maxSize || length > response.Length)
        {
            return 0;
        }

        cached.CopyTo(response);
        BinaryPrimitives.WriteUInt16BigEndian(response, request.Id);
        if (request.RecursionDesired)
        {
            response[2] |= 0x01;
        }

        query[DnsQuery.QuestionOffset..request.QuestionEnd].CopyTo(response[DnsQuery.QuestionOffset..]);
        if (edns)
        {
            // OPT: root name, type 41, class = our payload size, TTL 0 (extended rcode, version, flags), no options.
            var opt = response.Slice(cached.Length, OptRecordSize);
            opt.Clear();
            BinaryPrimitives.WriteUInt16BigEndian(opt[1..], (ushort)DnsType.OPT);
            BinaryPrimitives.WriteUInt16BigEndian(opt[3..], EdnsPayloadSize);
            BinaryPrimitives.WriteUInt16BigEndian(response[10..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(response[10..]) + 1));
        }

        return length;
    }

    private async ValueTask<byte[]?> HandleUncachedAsync(ReadOnlyMemory<byte> query, bool overTcp, CancellationToken cancellationToken)
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

    private void ServeUdp(Socket socket, CancellationToken cancellationToken)
    {
        // Blocking receives and sends on a socket never used asynchronously: each is one system call, allocation-free.
        var query = new byte[ushort.MaxValue];
        var response = new byte[EdnsPayloadSize];
        var client = new SocketAddress(socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(query, SocketFlags.None, client);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                var length = TryAnswerFromCache(query.AsSpan(0, received), response, overTcp: false);
                if (length > 0)
                {
                    socket.SendTo(response.AsSpan(0, length), SocketFlags.None, client);
                    continue;
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogQueryFailed(logger, e);
                continue;
            }

            // Forwarding and the rare uncached answer wait elsewhere, so this receiver goes back to the socket.
            var copy = new SocketAddress(client.Family, client.Size);
            client.Buffer.Span.CopyTo(copy.Buffer.Span);
            _ = RespondUdpAsync(socket, query.AsSpan(0, received).ToArray(), copy, cancellationToken);
        }
    }

    private async Task RespondUdpAsync(Socket socket, byte[] query, SocketAddress client, CancellationToken cancellationToken)
    {
        try
        {
            var response = await HandleUncachedAsync(query, overTcp: false, cancellationToken).ConfigureAwait(false);
            if (response is not null)
            {
                // A synchronous send keeps the socket in blocking mode for the receivers.
                socket.SendTo(response, SocketFlags.None, client);
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
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
            {
                // InvalidOperationException: the listener was stopped before this loop first accepted.
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
