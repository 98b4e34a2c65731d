using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager;

/// <summary>What every controller shares: the client, the shared informers, the event recorder and the clock.</summary>
internal sealed class ControllerContext(
    KubernetesClient client,
    SharedInformerFactory informers,
    EventRecorder events,
    ControllerManagerOptions options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory)
{
    public KubernetesClient Client { get; } = client;

    public SharedInformerFactory Informers { get; } = informers;

    public EventRecorder Events { get; } = events;

    public ControllerManagerOptions Options { get; } = options;

    public TimeProvider Time { get; } = timeProvider;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}
