using Kubesharp.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Simulation;

public static class SimulatedNodesServiceCollectionExtensions
{
    /// <summary>
    /// Runs <paramref name="options"/>.Count simulated nodes as a hosted service; needs a KubernetesClient
    /// singleton in the container.
    /// </summary>
    public static IServiceCollection AddSimulatedNodes(this IServiceCollection services, SimulatedNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count <= 0)
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SimulatedNodeHost(
            sp.GetRequiredService<KubernetesClient>(),
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<SimulatedNodeHost>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SimulatedNodeHost>());
        return services;
    }
}
