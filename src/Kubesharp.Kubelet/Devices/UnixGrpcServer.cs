using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// A gRPC server on a unix socket: ASP.NET Core gRPC on Kestrel speaking cleartext HTTP/2, serving the device
/// plugin Registration and pod resources APIs (and, in tests, plugins and drivers).
/// </summary>
internal sealed class UnixGrpcServer : IAsyncDisposable
{
    private const int MaxMessageSize = 16 * 1024 * 1024;
    private readonly WebApplication app;

    private UnixGrpcServer(WebApplication app, string socketPath)
    {
        this.app = app;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>Starts listening; a socket file left at <paramref name="socketPath"/> is replaced.</summary>
    public static async Task<UnixGrpcServer> StartAsync(string socketPath, GrpcServiceSet services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        File.Delete(socketPath);
        // The empty builder: a default one watches the whole working directory tree for configuration files.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageSize;
            grpc.EnableDetailedErrors = false;
        });
        services.Register(builder.Services);
        var app = builder.Build();
        services.Map(app);
        await app.StartAsync(cancellationToken);
        return new UnixGrpcServer(app, socketPath);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        File.Delete(SocketPath);
    }
}
