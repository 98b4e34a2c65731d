using Grpc.Core;
using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// The Registration service on <c>kubelet.sock</c> in the device plugin directory. Starting it removes the
/// sockets left in the directory, as upstream's kubelet does: plugins watching for kubelet.sock to be created
/// again (or their own socket to vanish) restart and register, which is how they find a restarted agent.
/// </summary>
internal sealed class DevicePluginServer : IAsyncDisposable
{
    public const string SocketName = "kubelet.sock";

    private readonly UnixGrpcServer server;

    private DevicePluginServer(UnixGrpcServer server) => this.server = server;

    public string SocketPath => server.SocketPath;

    public static async Task<DevicePluginServer> StartAsync(DeviceRegistry registry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Directory.CreateDirectory(registry.Directory);
        foreach (var file in Directory.EnumerateFileSystemEntries(registry.Directory))
        {
            if ((File.GetAttributes(file) & FileAttributes.Directory) == 0 && !Path.GetFileName(file).StartsWith(DeviceCheckpoint.FileName, StringComparison.Ordinal))
            {
                File.Delete(file);
            }
        }

        var services = new GrpcServiceSet().Add(new RegistrationService(registry));
        return new DevicePluginServer(await UnixGrpcServer.StartAsync(Path.Combine(registry.Directory, SocketName), services, cancellationToken));
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();

    private sealed class RegistrationService(DeviceRegistry registry) : Registration.RegistrationBase
    {
        public override Task<Empty> Register(RegisterRequest request, ServerCallContext context) => Task.FromResult(registry.Register(request));
    }
}
