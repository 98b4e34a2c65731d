using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Kubesharp.Kubelet.Probes;

/// <summary>The grpc.health.v1 Check call over plain HTTP/2, encoded by hand (one string field out, one enum back).</summary>
internal static class GrpcHealthProbe
{
    private const int Serving = 1;

    public static async Task<(bool Success, string Message)> CheckAsync(string host, int port, string? service, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var name = Encoding.UTF8.GetBytes(service ?? "");
        var message = new List<byte>();
        if (name.Length > 0)
        {
            message.Add(0x0A);
            WriteVarint(message, (ulong)name.Length);
            message.AddRange(name);
        }

        var frame = new byte[5 + message.Count];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Count);
        message.CopyTo(frame, 5);

        using var handler = new SocketsHttpHandler { UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = timeout };
        var target = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://{target}:{port}/grpc.health.v1.Health/Check"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var grpcStatus = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.FirstOrDefault()
                : response.Headers.TryGetValues("grpc-status", out var headerValues) ? headerValues.FirstOrDefault() : null;
            if (grpcStatus is not null and not "0")
            {
                return (false, $"rpc error: grpc-status {grpcStatus}");
            }

            var status = body.Length >= 7 && body[5] == 0x08 ? body[6] : 0;
            return status == Serving ? (true, "") : (false, $"service unhealthy (responded with status {status})");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, "timeout: health rpc did not complete");
        }
        catch (HttpRequestException e)
        {
            return (false, e.Message);
        }
    }

    private static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }
}
