using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// The aggregation layer (upstream's kube-aggregator) inside the API server: APIServices route group-versions to
/// extension API servers behind Services, the built-in group-versions are Local APIServices, an availability
/// controller keeps each one's Available condition and discovered resources, and requests for a non-local group-version
/// are proxied with the caller's identity in front-proxy headers.
/// </summary>
internal sealed class ApiAggregator : IDisposable
{
    private readonly ResourceRegistry _registry;
    private readonly FrontProxyCertificates _frontProxy;
    private readonly ApiServiceTransport _transport;
    private readonly LocalApiServiceRegistration _registration;
    private readonly ApiServiceAvailabilityController _availability;

    public ApiAggregator(ResourceRegistry registry, FrontProxyCertificates frontProxy, IHttpForwarder forwarder, ILoggerFactory loggerFactory)
    {
        _registry = registry;
        _frontProxy = frontProxy;
        var resolver = new ServiceEndpointResolver(registry);
        _transport = new ApiServiceTransport(resolver, frontProxy);
        _availability = new ApiServiceAvailabilityController(registry, Apis, resolver, _transport, loggerFactory.CreateLogger<ApiServiceAvailabilityController>());
        _registration = new LocalApiServiceRegistration(registry, loggerFactory.CreateLogger<LocalApiServiceRegistration>());
        Proxy = new ApiServiceProxy(forwarder, _transport, _availability);
    }

    public AggregatedApis Apis { get; } = new();

    public ApiServiceProxy Proxy { get; }

    /// <summary>Publishes the front-proxy trust, registers the local APIServices and checks every APIService once, then follows changes.</summary>
    private Task _availabilityRun = Task.CompletedTask;

    public async Task StartAsync(string clientCaPem, CancellationToken cancellationToken)
    {
        if (_registry.FindByGroupResource("apiservices.apiregistration.k8s.io") is null)
        {
            return;
        }

        await ExtensionApiServerAuthentication.PublishAsync(_registry, clientCaPem, _frontProxy, cancellationToken).ConfigureAwait(false);
        await _registration.StartAsync(cancellationToken).ConfigureAwait(false);
        // The availability controller runs until the server stops; start-up does not wait for it.
        _availabilityRun = _availability.StartAsync(cancellationToken);
    }

    /// <summary>The availability controller's watches and worker, ending when the server's stopping token fires.</summary>
    internal Task AvailabilityRun => _availabilityRun;

    public void Dispose()
    {
        _transport.Dispose();
        _registration.Dispose();
        _frontProxy.Dispose();
    }
}
