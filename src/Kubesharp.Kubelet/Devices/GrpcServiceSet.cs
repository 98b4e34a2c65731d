using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.Kubelet.Devices;

/// <summary>The services a <see cref="UnixGrpcServer"/> serves: instances of generated gRPC service bases.</summary>
internal sealed class GrpcServiceSet
{
    // What ASP.NET Core gRPC reflects over to bind a service type's methods.
    private const DynamicallyAccessedMemberTypes ServiceMembers =
        DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods;

    private readonly List<Action<IServiceCollection>> registrations = [];
    private readonly List<Action<IEndpointRouteBuilder>> mappings = [];

    /// <summary>Serves <paramref name="service"/>, one instance for every call.</summary>
    public GrpcServiceSet Add<[DynamicallyAccessedMembers(ServiceMembers)] TService>(TService service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        registrations.Add(services => services.AddSingleton(service));
        mappings.Add(endpoints => endpoints.MapGrpcService<TService>());
        return this;
    }

    internal void Register(IServiceCollection services)
    {
        foreach (var registration in registrations)
        {
            registration(services);
        }
    }

    internal void Map(IEndpointRouteBuilder endpoints)
    {
        foreach (var mapping in mappings)
        {
            mapping(endpoints);
        }
    }
}
