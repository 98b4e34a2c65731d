using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.Proxy;

public static class ServiceProxyServiceCollectionExtensions
{
    /// <summary>Programs service rules on this node; needs a <see cref="Kubesharp.Client.Informers.SharedInformerFactory"/> in the container.</summary>
    public static IServiceCollection AddServiceProxy(this IServiceCollection services, ServiceProxyOptions options)
    {
        services.AddSingleton(options);
        services.AddHostedService<ServiceProxyHostedService>();
        return services;
    }
}
