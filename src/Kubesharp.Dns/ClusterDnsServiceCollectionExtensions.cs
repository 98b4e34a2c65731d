using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.Dns;

public static class ClusterDnsServiceCollectionExtensions
{
    /// <summary>Serves cluster DNS; needs a <see cref="Kubesharp.Client.Informers.SharedInformerFactory"/> in the container.</summary>
    public static IServiceCollection AddClusterDns(this IServiceCollection services, ClusterDnsOptions options)
    {
        services.AddSingleton(options);
        services.AddHostedService<ClusterDnsHostedService>();
        return services;
    }
}
