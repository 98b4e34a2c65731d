using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's PodTolerationRestriction: a namespace's <c>scheduler.alpha.kubernetes.io/defaultTolerations</c> are
/// merged into its new pods, and its <c>scheduler.alpha.kubernetes.io/tolerationsWhitelist</c>, when set, bounds
/// the tolerations a pod may carry on create and update. Namespaces without the annotations are left alone.
/// </summary>
internal sealed class PodTolerationRestrictionPlugin(ResourceRegistry registry) : IMutatingAdmissionPlugin, IValidatingAdmissionPlugin
{
    private const string DefaultTolerations = "scheduler.alpha.kubernetes.io/defaultTolerations";
    private const string Whitelist = "scheduler.alpha.kubernetes.io/tolerationsWhitelist";

    public string Name => "PodTolerationRestriction";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation is AdmissionOperation.Create or AdmissionOperation.Update &&
        attributes.Subresource.Length == 0 && attributes.Resource.GroupResource == "pods";

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Operation != AdmissionOperation.Create || attributes.Object?["spec"] is not JsonObject spec ||
            Annotation(attributes, DefaultTolerations) is not { } defaults)
        {
            return ValueTask.CompletedTask;
        }

        if (spec["tolerations"] is not JsonArray tolerations)
        {
            spec["tolerations"] = tolerations = [];
        }

        foreach (var toleration in defaults)
        {
            // The pod's own toleration for the same key and effect wins over the namespace default.
            if (!tolerations.OfType<JsonObject>().Any(t => Text(t, "key") == Text(toleration, "key") && Text(t, "effect") == Text(toleration, "effect")))
            {
                tolerations.Add(toleration.DeepClone());
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (Annotation(attributes, Whitelist) is not { } whitelist)
        {
            return ValueTask.CompletedTask;
        }

        var tolerations = (attributes.Object?["spec"]?["tolerations"] as JsonArray)?.OfType<JsonObject>() ?? [];
        if (attributes.Operation == AdmissionOperation.Update &&
            JsonNode.DeepEquals(attributes.Object?["spec"]?["tolerations"], attributes.OldObject?["spec"]?["tolerations"]))
        {
            return ValueTask.CompletedTask;
        }

        if (tolerations.Any(t => !whitelist.Any(allowed => Covers(allowed, t))))
        {
            throw attributes.Forbidden("pod tolerations (possibly merged with namespace default tolerations) conflict with its namespace whitelist");
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether an allowed toleration is at least as broad as the pod's (key, effect, and value unless it tolerates any).</summary>
    private static bool Covers(JsonObject allowed, JsonObject toleration)
    {
        if (Text(allowed, "key") != Text(toleration, "key") && Text(allowed, "key").Length > 0)
        {
            return false;
        }

        if (Text(allowed, "effect").Length > 0 && Text(allowed, "effect") != Text(toleration, "effect"))
        {
            return false;
        }

        if (Text(allowed, "operator") == "Exists")
        {
            return true;
        }

        return Text(toleration, "operator") != "Exists" && Text(allowed, "value") == Text(toleration, "value");
    }

    private static string Text(JsonObject obj, string field) => (string?)obj[field] ?? string.Empty;

    /// <summary>The namespace annotation as a list of tolerations, or null when the namespace sets none (or an unreadable one).</summary>
    private List<JsonObject>? Annotation(AdmissionAttributes attributes, string key)
    {
        if (registry.Namespaces is null || registry.Get(registry.Namespaces, null, attributes.Namespace) is not { } ns ||
            !ns.Metadata.TryGetProperty("annotations", out var annotations) || annotations.ValueKind != JsonValueKind.Object ||
            !annotations.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return (JsonNode.Parse(value.GetString()!) as JsonArray)?.OfType<JsonObject>().ToList();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
