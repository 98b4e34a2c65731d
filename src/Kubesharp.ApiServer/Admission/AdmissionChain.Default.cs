using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Admission.Plugins;
using Kubesharp.ApiServer.Admission.Policies;
using Kubesharp.ApiServer.Admission.Webhooks;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission;

internal sealed partial class AdmissionChain
{
    /// <summary>The plugins upstream enables by default that this server implements (and PodTolerationRestriction, inert until a namespace is annotated), in upstream's order.</summary>
    public static AdmissionChain Default(ResourceRegistry registry, ILoggerFactory loggerFactory)
    {
        var priority = new PriorityPlugin(registry);
        var limitRanger = new LimitRangerPlugin(registry);
        var tolerationRestriction = new PodTolerationRestrictionPlugin(registry);
        var matcher = new AdmissionMatcher(registry);

        // The authorizer of CEL expressions reads RBAC from the registry, which is still being built here; it is the
        // request pipeline's own once the host has set it, so the RBAC index exists once.
        var authorizer = new Lazy<RequestAuthorizer>(() => registry.Authorizer ?? new RequestAuthorizer(registry));
        var webhooks = new WebhookDispatcher(registry.Webhooks, matcher, authorizer, loggerFactory.CreateLogger<WebhookDispatcher>());
        return new AdmissionChain(
            [
                new NamespaceLifecyclePlugin(registry), limitRanger, new TaintNodesByConditionPlugin(), priority, new DefaultTolerationSecondsPlugin(), tolerationRestriction, new DefaultIngressClassPlugin(registry),
                new MutatingAdmissionPolicyPlugin(registry, matcher, authorizer),
                new MutatingWebhookPlugin(webhooks, new WebhookSource(registry, "mutatingwebhookconfigurations.admissionregistration.k8s.io", mutating: true)),
            ],
            [
                limitRanger, new NodeRestrictionPlugin(registry), new PodSecurityPlugin(registry), priority, tolerationRestriction, new ValidatingAdmissionPolicyPlugin(registry, matcher, authorizer),
                new ValidatingWebhookPlugin(webhooks, new WebhookSource(registry, "validatingwebhookconfigurations.admissionregistration.k8s.io", mutating: false)),
                new ResourceQuotaPlugin(registry),
            ]);
    }
}
