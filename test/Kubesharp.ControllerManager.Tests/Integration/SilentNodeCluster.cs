namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>A cluster whose only node stops counting as alive two seconds after it was registered.</summary>
public sealed class SilentNodeCluster : IAsyncLifetime
{
    public ControllerCluster Cluster { get; } = new(TimeSpan.FromSeconds(2));

    public Task InitializeAsync() => Cluster.InitializeAsync();

    public Task DisposeAsync() => Cluster.DisposeAsync();
}
