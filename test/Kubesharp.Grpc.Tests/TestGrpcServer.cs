using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Grpc.Tests;

/// <summary>A Kestrel HTTP/2 (h2c) server whose handlers speak gRPC framing by hand.</summary>
internal sealed class TestGrpcServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private TestGrpcServer(WebApplication app, string address)
    {
        this.app = app;
        Address = address;
    }

    public string Address { get; }

    public static async Task<TestGrpcServer> StartAsync(Action<WebApplication> map, string? unixSocketPath = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options =>
        {
            if (unixSocketPath is null)
            {
                options.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            }
            else
            {
                options.ListenUnixSocket(unixSocketPath, listen => listen.Protocols = HttpProtocols.Http2);
            }
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = unixSocketPath is null
            ? app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            : "unix://" + unixSocketPath;
        return new TestGrpcServer(app, address);
    }

    public static async IAsyncEnumerable<T> ReadMessagesAsync<T>(HttpRequest request, MessageParser<T> parser)
        where T : IMessage<T>
    {
        var header = new byte[5];
        while (true)
        {
            var read = await request.Body.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, request.HttpContext.RequestAborted);
            if (read == 0)
            {
                yield break;
            }

            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, request.HttpContext.RequestAborted);
            yield return parser.ParseFrom(body);
        }
    }

    public static async Task<T> ReadSingleAsync<T>(HttpRequest request, MessageParser<T> parser)
        where T : IMessage<T>
    {
        await foreach (var message in ReadMessagesAsync(request, parser))
        {
            return message;
        }

        throw new InvalidOperationException("no request message");
    }

    public static async Task WriteMessageAsync(HttpResponse response, IMessage message, bool gzip = false)
    {
        if (!response.HasStarted)
        {
            response.ContentType = "application/grpc";
            response.DeclareTrailer("grpc-status");
            await response.StartAsync();
        }

        var payload = message.ToByteArray();
        if (gzip)
        {
            using var buffer = new MemoryStream();
            using (var compressor = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            {
                compressor.Write(payload);
            }

            payload = buffer.ToArray();
        }

        var frame = new byte[5 + payload.Length];
        frame[0] = gzip ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        await response.Body.WriteAsync(frame);
        await response.Body.FlushAsync();
    }

    public static void Finish(HttpResponse response, int status = 0, string? message = null)
    {
        response.AppendTrailer("grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message is not null)
        {
            response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
        }
    }

    public static void TrailersOnly(HttpResponse response, int status, string message)
    {
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
