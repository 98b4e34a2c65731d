using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Kubesharp.ApiMachinery.HttpStreams;

/// <summary>
/// The client half of an HTTP/1.1 connection upgrade (SPDY or WebSocket streaming for exec, attach and
/// port-forward): one request on a fresh connection, then the response head. After a 101 the connection
/// carries the upgraded protocol and is the caller's to use and dispose.
/// </summary>
public static class HttpUpgrade
{
    private const int MaxHeadBytes = 64 * 1024;

    /// <param name="target">http:// or https:// URL; https uses <paramref name="tls"/> (target host filled in when unset).</param>
    /// <param name="headers">Request headers besides Host, in order; a name may repeat.</param>
    public static async Task<UpgradeResponse> SendAsync(
        Uri target, string method, IEnumerable<KeyValuePair<string, string>> headers, SslClientAuthenticationOptions? tls, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(headers);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream stream;
        try
        {
            await socket.ConnectAsync(target.DnsSafeHost, target.Port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        try
        {
            if (string.Equals(target.Scheme, "https", StringComparison.OrdinalIgnoreCase))
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var options = tls ?? new SslClientAuthenticationOptions();
                options.TargetHost ??= target.DnsSafeHost;
                // The upgrade is an HTTP/1.1 mechanism; never let ALPN pick HTTP/2.
                options.ApplicationProtocols = [SslApplicationProtocol.Http11];
                await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            }

            var request = new StringBuilder();
            request.Append(method).Append(' ').Append(target.PathAndQuery).Append(" HTTP/1.1\r\n");
            request.Append("Host: ").Append(target.Authority).Append("\r\n");
            foreach (var (name, value) in headers)
            {
                request.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            request.Append("\r\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

            var head = await ReadHeadAsync(stream, cancellationToken).ConfigureAwait(false);
            return Parse(head, stream);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Parses a response head (status line and header lines, without the blank line).</summary>
    public static UpgradeResponse Parse(string head, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(head);
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/", StringComparison.Ordinal)
            || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new IOException($"malformed response status line: {lines[0]}");
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        return new UpgradeResponse(code, status.Length > 2 ? status[2] : string.Empty, headers, stream);
    }

    // One byte at a time so that nothing after the head is consumed: those bytes belong to the upgraded protocol.
    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var bytes = new List<byte>(512);
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new IOException("the connection closed before a response arrived");
            }

            bytes.Add(one[0]);
            var n = bytes.Count;
            if (n >= 4 && bytes[n - 4] == '\r' && bytes[n - 3] == '\n' && bytes[n - 2] == '\r' && bytes[n - 1] == '\n')
            {
                return Encoding.ASCII.GetString(bytes.ToArray(), 0, n - 4);
            }

            if (n > MaxHeadBytes)
            {
                throw new IOException("the response head is too large");
            }
        }
    }
}
