using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's PodSecurity: a namespace's pod-security.kubernetes.io/enforce label refuses pods that break its level,
/// the warn label sends the client a warning instead (audit is accepted; this server keeps no audit log). Pods are
/// checked when created, and on update when the update is significant to their security (ephemeral containers added,
/// the seccomp annotation changed); pod templates of workloads only warn, as upstream.
/// </summary>
internal sealed class PodSecurityPlugin(ResourceRegistry registry) : IValidatingAdmissionPlugin
{
    private const string Prefix = "pod-security.kubernetes.io/";

    private static readonly HashSet<string> Workloads = new(StringComparer.Ordinal)
    {
        "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps", "jobs.batch", "cronjobs.batch", "replicationcontrollers", "podtemplates",
    };

    public string Name => "PodSecurity";

    private const string SeccompAnnotation = "seccomp.security.alpha.kubernetes.io/pod";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Resource.GroupResource == "pods" && attributes.Operation == AdmissionOperation.Update && attributes.Subresource == "ephemeralcontainers" ||
        attributes.Subresource.Length == 0 &&
        (attributes.Operation == AdmissionOperation.Create && attributes.Resource.GroupResource == "pods" ||
         attributes.Operation == AdmissionOperation.Update && attributes.Resource.GroupResource == "pods" && SignificantPodUpdate(attributes) ||
         attributes.Operation is AdmissionOperation.Create or AdmissionOperation.Update && Workloads.Contains(attributes.Resource.GroupResource));

    /// <summary>Upstream checks a pod update only when it could change the pod's security (most of a pod's spec is immutable).</summary>
    private static bool SignificantPodUpdate(AdmissionAttributes attributes) =>
        (string?)attributes.Object?["metadata"]?["annotations"]?[SeccompAnnotation] != (string?)attributes.OldObject?["metadata"]?["annotations"]?[SeccompAnnotation] ||
        !JsonNode.DeepEquals(attributes.Object?["spec"]?["ephemeralContainers"], attributes.OldObject?["spec"]?["ephemeralContainers"]);

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (registry.Namespaces is null || registry.Get(registry.Namespaces, null, attributes.Namespace) is not { } ns)
        {
            return ValueTask.CompletedTask;
        }

        var labels = ns.Labels;
        var pod = attributes.Resource.GroupResource == "pods";
        var spec = pod ? attributes.Object?["spec"] as JsonObject : Template(attributes.Object);
        if (spec is null)
        {
            return ValueTask.CompletedTask;
        }

        if (Level(labels, "enforce") is { } enforce)
        {
            var failures = PodSecurityStandards.Check(spec, enforce.Level);
            if (failures.Count > 0)
            {
                var message = $"violates PodSecurity \"{enforce.Level}:{enforce.Version}\": {PodSecurityStandards.Format(failures)}";
                if (pod)
                {
                    throw attributes.Forbidden(message);
                }

                attributes.Context.Warn("would " + message);
            }
        }

        if (Level(labels, "warn") is { } warn)
        {
            var failures = PodSecurityStandards.Check(spec, warn.Level);
            if (failures.Count > 0)
            {
                attributes.Context.Warn($"would violate PodSecurity \"{warn.Level}:{warn.Version}\": {PodSecurityStandards.Format(failures)}");
            }
        }

        return ValueTask.CompletedTask;
    }

    private static (string Level, string Version)? Level(IReadOnlyDictionary<string, string> labels, string mode)
    {
        if (!labels.TryGetValue(Prefix + mode, out var level) || !PodSecurityStandards.IsLevel(level) || level == PodSecurityStandards.Privileged)
        {
            return null;
        }

        var version = labels.TryGetValue(Prefix + mode + "-version", out var v) && v.Length > 0 ? v : "latest";
        return (level, version);
    }

    private static JsonObject? Template(JsonObject? obj) =>
        obj?["kind"]?.GetValue<string>() == "CronJob"
            ? obj["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"] as JsonObject
            : obj?["kind"]?.GetValue<string>() == "PodTemplate"
                ? obj["template"]?["spec"] as JsonObject
                : obj?["spec"]?["template"]?["spec"] as JsonObject;
}
