using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Runtime;

/// <summary>The agent's connection to its CRI runtime, owning the containerd it started (if any).</summary>
public sealed class ContainerRuntime : IAsyncDisposable
{
    private readonly GrpcChannel? externalChannel;

    private ContainerRuntime(string endpoint, IRuntimeService runtime, IImageService images, ContainerdSupervisor? supervisor, GrpcChannel? externalChannel)
    {
        Endpoint = endpoint;
        Runtime = runtime;
        Images = images;
        Supervisor = supervisor;
        this.externalChannel = externalChannel;
    }

    public string Endpoint { get; }

    public IRuntimeService Runtime { get; }

    public IImageService Images { get; }

    /// <summary>The agent's own containerd, or null when an external runtime is used.</summary>
    public ContainerdSupervisor? Supervisor { get; }

    /// <summary>Connects to the configured endpoint, or starts containerd; either way the runtime answered Version.</summary>
    public static async Task<ContainerRuntime> StartAsync(
        ContainerRuntimeOptions options, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (!string.IsNullOrEmpty(options.ContainerRuntimeEndpoint))
        {
            var channel = UnixSocketChannel.ForEndpoint(options.ContainerRuntimeEndpoint);
            var runtime = new CriRuntimeClient(channel);
            try
            {
                await runtime.VersionAsync(cancellationToken);
            }
            catch (RpcException e)
            {
                channel.Dispose();
                throw new ContainerRuntimeUnavailableException($"The container runtime at {options.ContainerRuntimeEndpoint} did not answer: {e.Status.Detail}", e);
            }

            return new ContainerRuntime(options.ContainerRuntimeEndpoint, runtime, new CriImageClient(channel), null, channel);
        }

        var containerd = options.Containerd ?? throw new ArgumentException("Either an endpoint or containerd options are required.", nameof(options));
        var supervisor = new ContainerdSupervisor(containerd, loggerFactory.CreateLogger<ContainerdSupervisor>(), timeProvider);
        try
        {
            await supervisor.StartAsync(cancellationToken);
        }
        catch
        {
            await supervisor.DisposeAsync();
            throw;
        }

        return new ContainerRuntime(supervisor.Endpoint, supervisor.Runtime, supervisor.Images, supervisor, null);
    }

    public async ValueTask DisposeAsync()
    {
        if (Supervisor is not null)
        {
            await Supervisor.DisposeAsync();
        }

        externalChannel?.Dispose();
    }
}
