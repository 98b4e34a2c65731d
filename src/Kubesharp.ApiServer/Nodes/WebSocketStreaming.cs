using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Kubesharp.ApiMachinery.HttpStreams;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// The WebSocket forms of the streaming subresources that the runtime's streaming server does not speak itself.
/// <list type="bullet">
/// <item><c>SPDY/3.1+portforward.k8s.io</c> (kubectl's port-forward since 1.31): the client runs SPDY inside WebSocket
/// binary messages; the API server asks the node for a plain SPDY port-forward and carries the bytes between the
/// messages and that connection, as upstream's tunnelling handler does.</item>
/// <item><c>v5.channel.k8s.io</c> (exec and attach): v4's framing plus a CLOSE message on channel 255. Without stdin
/// nothing can be closed, so the frames are v4's and the runtime is asked for v4; with stdin v5 is not offered on
/// (a client offering nothing else is refused and falls back to SPDY, as kubectl does).</item>
/// </list>
/// </summary>
internal static class WebSocketStreaming
{
    public const string PortForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io";
    public const string ChannelV5Protocol = "v5.channel.k8s.io";
    public const string ChannelV4Protocol = "v4.channel.k8s.io";
    private const string SubprotocolHeader = "Sec-WebSocket-Protocol";
    private const string AcceptMagic = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static bool IsWebSocket(HttpRequest request) =>
        request.Headers.Upgrade.Any(v => string.Equals(v?.Trim(), "websocket", StringComparison.OrdinalIgnoreCase));

    /// <summary>The subprotocols a WebSocket client offers, in its order of preference.</summary>
    public static List<string> OfferedProtocols(HttpRequest request) =>
        request.Headers[SubprotocolHeader].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary>What the node is asked for when the client tunnels SPDY through WebSocket: an SPDY port-forward.</summary>
    public static IEnumerable<KeyValuePair<string, string>> TunnelBackendHeaders(HttpRequest request)
    {
        yield return new("Connection", "Upgrade");
        yield return new("Upgrade", "SPDY/3.1");
        yield return new(UpgradeHeaders.StreamProtocolVersion, "portforward.k8s.io");
        if (request.Headers.UserAgent.Count > 0)
        {
            yield return new("User-Agent", request.Headers.UserAgent.ToString());
        }
    }

    /// <summary>The offer passed on for exec or attach: v5 stands for v4 when no stdin can be closed, and is dropped otherwise.</summary>
    public static List<string> ChannelOfferForRuntime(List<string> offered, bool stdin)
    {
        var result = new List<string>();
        foreach (var protocol in offered)
        {
            var passed = protocol == ChannelV5Protocol ? (stdin ? null : ChannelV4Protocol) : protocol;
            if (passed is not null && !result.Contains(passed))
            {
                result.Add(passed);
            }
        }

        return result;
    }

    /// <summary>Request headers for the node with the WebSocket subprotocol offer replaced.</summary>
    public static IEnumerable<KeyValuePair<string, string>> WithProtocols(IEnumerable<KeyValuePair<string, string>> headers, IReadOnlyList<string> protocols) =>
        headers.Where(h => !string.Equals(h.Key, SubprotocolHeader, StringComparison.OrdinalIgnoreCase))
            .Append(new(SubprotocolHeader, string.Join(", ", protocols)));

    /// <summary>The 101 a WebSocket client gets when the API server itself ends its WebSocket.</summary>
    public static void AcceptHeaders(HttpContext context, string protocol)
    {
        var key = context.Request.Headers["Sec-WebSocket-Key"].ToString().Trim();
        context.Response.Headers.Upgrade = "websocket";
        // RFC 6455 fixes SHA-1 for the handshake; it proves the server read the key and protects nothing.
#pragma warning disable CA5350
        context.Response.Headers["Sec-WebSocket-Accept"] = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptMagic)));
#pragma warning restore CA5350
        context.Response.Headers[SubprotocolHeader] = protocol;
    }

    /// <summary>Carries the bytes of the node's connection in binary messages and the client's messages back as bytes.</summary>
    public static async Task TunnelAsync(Stream client, Stream backend, CancellationToken cancellationToken)
    {
        // The subprotocol was answered in the 101 already; .NET would refuse this one's '/' as a token character.
        using var socket = WebSocket.CreateFromStream(client, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.FromSeconds(30) });
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inbound = FromClientAsync(socket, backend, done.Token);
        var outbound = ToClientAsync(backend, socket, done.Token);
        // Either side ending ends the session, as with a plain splice.
        await Task.WhenAny(inbound, outbound).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(inbound, outbound).ConfigureAwait(false);
        socket.Abort();
    }

    private static async Task FromClientAsync(WebSocket socket, Stream backend, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(32 * 1024);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (received.MessageType != WebSocketMessageType.Binary)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.InvalidMessageType, "only binary messages are tunnelled", cancellationToken).ConfigureAwait(false);
                    return;
                }

                await backend.WriteAsync(buffer.AsMemory(0, received.Count), cancellationToken).ConfigureAwait(false);
                await backend.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or WebSocketException or InvalidOperationException)
        {
            // A closed or reset side ends the tunnel like an orderly close does.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task ToClientAsync(Stream backend, WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(32 * 1024);
        try
        {
            while (true)
            {
                var read = await backend.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or WebSocketException or InvalidOperationException)
        {
            // A closed or reset side ends the tunnel like an orderly close does.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
