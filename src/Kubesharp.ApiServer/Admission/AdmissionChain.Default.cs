using Kubesharp.ApiServer.Admission.Plugins;
using Kubesharp.ApiServer.Admission.Webhooks;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission;

internal sealed partial class AdmissionChain
{
    /// <summary>The plugins upstream enables by default that this server implements, in upstream's order.</summary>
    public static AdmissionChain Default(ResourceRegistry registry, ILoggerFactory loggerFactory)
    {
        var priority = new PriorityPlugin(registry);
        var limitRanger = new LimitRangerPlugin(registry);
        var webhooks = new WebhookDispatcher(registry, loggerFactory.CreateLogger<WebhookDispatcher>());
        return new AdmissionChain(
            [
                new NamespaceLifecyclePlugin(registry), limitRanger, priority, new DefaultTolerationSecondsPlugin(),
                new MutatingWebhookPlugin(webhooks, new WebhookSource(registry, "mutatingwebhookconfigurations.admissionregistration.k8s.io", mutating: true)),
            ],
            [
                limitRanger, new NodeRestrictionPlugin(registry), new PodSecurityPlugin(registry), priority,
                new ValidatingWebhookPlugin(webhooks, new WebhookSource(registry, "validatingwebhookconfigurations.admissionregistration.k8s.io", mutating: false)),
                new ResourceQuotaPlugin(registry),
            ]);
    }
}
