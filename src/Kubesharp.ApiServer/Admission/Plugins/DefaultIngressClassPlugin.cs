using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's DefaultIngressClass plugin: a new Ingress naming no class (neither the field nor the legacy
/// annotation) gets the default IngressClass, the newest one when several are marked default.
/// </summary>
internal sealed class DefaultIngressClassPlugin(ResourceRegistry registry) : IMutatingAdmissionPlugin
{
    private const string IsDefaultAnnotation = "ingressclass.kubernetes.io/is-default-class";

    public string Name => "DefaultIngressClass";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation == AdmissionOperation.Create && attributes.Subresource.Length == 0 && attributes.Resource.GroupResource == "ingresses.networking.k8s.io";

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var obj = attributes.Object;
        if (obj is null || obj["spec"]?["ingressClassName"] is not null || obj["metadata"]?["annotations"]?["kubernetes.io/ingress.class"] is not null)
        {
            return ValueTask.CompletedTask;
        }

        var chosen = Classes()
            .Select(c => c.Root)
            .Where(c => c.TryGetProperty("metadata", out var m) && m.TryGetProperty("annotations", out var a) && a.TryGetProperty(IsDefaultAnnotation, out var d) && d.ValueKind == JsonValueKind.String && d.GetString() == "true")
            .OrderByDescending(c => c.GetProperty("metadata").TryGetProperty("creationTimestamp", out var t) ? t.GetString() : null, StringComparer.Ordinal)
            .ThenBy(c => c.GetProperty("metadata").GetProperty("name").GetString(), StringComparer.Ordinal)
            .Select(c => c.GetProperty("metadata").GetProperty("name").GetString())
            .FirstOrDefault();
        if (chosen is not null)
        {
            if (obj["spec"] is not JsonObject spec)
            {
                obj["spec"] = spec = new JsonObject();
            }

            spec["ingressClassName"] = chosen;
        }

        return ValueTask.CompletedTask;
    }

    private IEnumerable<Caching.CachedObject> Classes() =>
        registry.FindByGroupResource("ingressclasses.networking.k8s.io") is { } resource
            ? registry.Cache.For(resource).Snapshot.Values
            : [];
}
