using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Kubesharp.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// A gRPC server on a unix socket: Kestrel speaking cleartext HTTP/2, with unary and server-streaming methods
/// registered by full name. The device plugin and pod resources APIs need nothing more (no compression, no client
/// streaming), and Kestrel already carries the agent's HTTPS endpoint, so this is a few framing lines rather than
/// a second gRPC stack beside the project's own client.
/// </summary>
internal sealed class UnixGrpcServer : IAsyncDisposable
{
    private const int MaxMessageSize = 16 * 1024 * 1024;
    private readonly WebApplication app;
    private readonly Dictionary<string, Func<HttpContext, Task>> methods;

    private UnixGrpcServer(WebApplication app, string socketPath, Dictionary<string, Func<HttpContext, Task>> methods)
    {
        this.app = app;
        this.methods = methods;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>Starts listening; a socket file left at <paramref name="socketPath"/> is replaced.</summary>
    public static async Task<UnixGrpcServer> StartAsync(string socketPath, GrpcMethods methods, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(methods);
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        File.Delete(socketPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        var server = new UnixGrpcServer(app, socketPath, methods.Handlers);
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        File.Delete(SocketPath);
    }

    private async Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-accept-encoding"] = "identity";
        if (!HttpMethods.IsPost(context.Request.Method) || !methods.TryGetValue(context.Request.Path.Value ?? "", out var handler))
        {
            Finish(context, StatusCode.Unimplemented, $"unknown method {context.Request.Path.Value}");
            return;
        }

        try
        {
            await handler(context);
            Finish(context, StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            Finish(context, e.StatusCode, e.Detail);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IOException or InvalidOperationException)
        {
            Finish(context, StatusCode.Internal, e.Message);
        }
    }

    private static void Finish(HttpContext context, StatusCode status, string message)
    {
        context.Response.AppendTrailer("grpc-status", ((int)status).ToString(CultureInfo.InvariantCulture));
        if (message.Length > 0)
        {
            context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
        }
    }

    internal static async Task<T> ReadRequestAsync<T>(HttpContext context, MessageParser<T> parser)
        where T : IMessage<T>
    {
        var body = context.Request.Body;
        var header = new byte[5];
        var read = await body.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, context.RequestAborted);
        if (read == 0)
        {
            throw new RpcException(StatusCode.Internal, "the request has no message");
        }

        if (read < header.Length || header[0] != 0)
        {
            throw new RpcException(header[0] != 0 ? StatusCode.Unimplemented : StatusCode.Internal, header[0] != 0 ? "compressed requests are not accepted" : "the request ended inside a message header");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > MaxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"request of {length} bytes exceeds the limit of {MaxMessageSize}");
        }

        var buffer = new byte[length];
        await body.ReadExactlyAsync(buffer, context.RequestAborted);
        return parser.ParseFrom(buffer);
    }

    internal static async Task WriteMessageAsync(HttpContext context, IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[5 + size];
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        message.WriteTo(buffer.AsSpan(5));
        await context.Response.Body.WriteAsync(buffer, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
