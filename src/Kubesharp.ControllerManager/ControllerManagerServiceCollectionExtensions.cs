using Kubesharp.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager;

public static class ControllerManagerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the controller manager as a hosted service. <paramref name="client"/> supplies the API client
    /// (the server verb builds it from its admin kubeconfig once the API server listens).
    /// </summary>
    public static IServiceCollection AddControllerManager(this IServiceCollection services, ControllerManagerOptions options, Func<IServiceProvider, KubernetesClient> client)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(client);
        services.AddHostedService(sp => new ControllerManagerService(
            client(sp),
            options,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        return services;
    }
}
