using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Registry;

/// <summary>What strategies may consult: the cache (read-only) and the clock.</summary>
internal sealed class RegistryContext(WatchCache cache, TimeProvider timeProvider, ApiServerOptions options)
{
    public WatchCache Cache { get; } = cache;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public ApiServerOptions Options { get; } = options;
}
