using Kubesharp.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet;

public static class KubeletServiceCollectionExtensions
{
    /// <summary>Adds the node agent as a hosted service; <paramref name="client"/> makes its API connection.</summary>
    public static IServiceCollection AddKubelet(this IServiceCollection services, KubeletOptions options, Func<IServiceProvider, KubernetesClient> client)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        services.AddSingleton(provider => new KubeletService(
            options,
            client(provider),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>()));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<KubeletService>());
        return services;
    }
}
