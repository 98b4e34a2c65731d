using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Admission.Plugins;
using Kubesharp.ApiServer.Admission.Plugins.EventRateLimits;
using Kubesharp.ApiServer.Admission.Policies;
using Kubesharp.ApiServer.Admission.Webhooks;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission;

internal sealed partial class AdmissionChain
{
    /// <summary>
    /// The plugins the server's options select (<see cref="AdmissionPluginSelection"/>), in upstream's order, each
    /// given its part of the admission configuration file.
    /// </summary>
    /// <exception cref="FormatException">The flags or the configuration file name a plugin that cannot be used as asked.</exception>
    public static AdmissionChain Default(ResourceRegistry registry, ILoggerFactory loggerFactory)
    {
        var options = registry.Options.Admission;
        var selection = AdmissionPluginSelection.From(options);
        var configuration = options.ConfigFile is { } file ? AdmissionConfigurationFile.Load(file) : AdmissionConfigurationFile.Empty;
        foreach (var configured in configuration.Plugins)
        {
            // A configuration for a plugin that would not read it is refused rather than silently ignored.
            if (selection.IsEnabled(configured) && !Configurable.Contains(configured))
            {
                throw new FormatException($"--admission-control-config-file: admission plugin {configured} takes no configuration here");
            }
        }

        var priority = new PriorityPlugin(registry);
        var limitRanger = new LimitRangerPlugin(registry);
        var tolerationRestriction = new PodTolerationRestrictionPlugin(registry);
        var matcher = new AdmissionMatcher(registry);

        // The authorizer of CEL expressions reads RBAC from the registry, which is still being built here; it is the
        // request pipeline's own once the host has set it, so the RBAC index exists once.
        var authorizer = new Lazy<RequestAuthorizer>(() => registry.Authorizer ?? new RequestAuthorizer(registry));
        var webhooks = new WebhookDispatcher(registry.Webhooks, matcher, authorizer, loggerFactory.CreateLogger<WebhookDispatcher>());
        var eventRateLimit = selection.IsEnabled("EventRateLimit")
            ? new EventRateLimitPlugin(EventRateLimitConfiguration.Parse(configuration.For("EventRateLimit")), registry.TimeProvider)
            : null;
        return new AdmissionChain(
            [
                new NamespaceLifecyclePlugin(registry), limitRanger, new TaintNodesByConditionPlugin(), priority, new DefaultTolerationSecondsPlugin(), tolerationRestriction, new DefaultIngressClassPlugin(registry),
                new MutatingAdmissionPolicyPlugin(registry, matcher, authorizer),
                new MutatingWebhookPlugin(webhooks, new WebhookSource(registry, "mutatingwebhookconfigurations.admissionregistration.k8s.io", mutating: true)),
            ],
            [
                limitRanger, new NodeRestrictionPlugin(registry), new PodSecurityPlugin(registry), priority, tolerationRestriction, eventRateLimit, new ValidatingAdmissionPolicyPlugin(registry, matcher, authorizer),
                new ValidatingWebhookPlugin(webhooks, new WebhookSource(registry, "validatingwebhookconfigurations.admissionregistration.k8s.io", mutating: false)),
                new ResourceQuotaPlugin(registry),
            ],
            selection);
    }

    private static readonly HashSet<string> Configurable = new(StringComparer.Ordinal) { "EventRateLimit" };
}
