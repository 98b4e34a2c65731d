using Kubesharp.ApiServer.Admission.Plugins;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission;

internal sealed partial class AdmissionChain
{
    /// <summary>The plugins upstream enables by default that this server implements, in upstream's order.</summary>
    public static AdmissionChain Default(ResourceRegistry registry, ILoggerFactory loggerFactory)
    {
        _ = loggerFactory;
        var priority = new PriorityPlugin(registry);
        return new AdmissionChain(
            [new NamespaceLifecyclePlugin(registry), priority, new DefaultTolerationSecondsPlugin()],
            [priority]);
    }
}
