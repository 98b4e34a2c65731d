using System.Text.Json;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's NamespaceLifecycle: nothing new in a namespace that does not exist or is terminating (events
/// excepted, so namespace deletion can report), and the namespaces the cluster needs may not be deleted.
/// </summary>
internal sealed class NamespaceLifecyclePlugin(ResourceRegistry registry) : IMutatingAdmissionPlugin
{
    private static readonly HashSet<string> Immortal = new(StringComparer.Ordinal) { "default", "kube-system", "kube-public" };

    public string Name => "NamespaceLifecycle";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation == AdmissionOperation.Create && attributes.Resource.Namespaced ||
        attributes.Operation == AdmissionOperation.Delete && attributes.Resource.GroupResource == "namespaces" && attributes.Subresource.Length == 0;

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Operation == AdmissionOperation.Delete)
        {
            if (Immortal.Contains(attributes.Name))
            {
                throw attributes.Forbidden("this namespace may not be deleted");
            }

            return ValueTask.CompletedTask;
        }

        if (registry.Namespaces is null || attributes.Resource.GroupResource is "events" or "events.events.k8s.io")
        {
            return ValueTask.CompletedTask;
        }

        if (registry.Get(registry.Namespaces, null, attributes.Namespace) is not { } ns)
        {
            return AdmitStoredAsync(registry.Namespaces, attributes, cancellationToken);
        }

        RefuseTerminating(attributes, ns.Root);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A namespace this server's cache does not hold yet: made through another server, or a moment ago. As upstream's
    /// live lookup, the store decides before the namespace is called missing.
    /// </summary>
    private async ValueTask AdmitStoredAsync(Kubesharp.ApiMachinery.Discovery.ApiResource namespaces, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var stored = await registry.Store.GetAsync(Caching.WatchCache.Key(namespaces, null, attributes.Namespace), 0, cancellationToken).ConfigureAwait(false)
            ?? throw StatusError.NotFound("namespaces", string.Empty, attributes.Namespace);
        using var document = JsonDocument.Parse(stored.Value);
        RefuseTerminating(attributes, document.RootElement);
    }

    private static void RefuseTerminating(AdmissionAttributes attributes, JsonElement ns)
    {
        if ((ns.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("deletionTimestamp", out _)) ||
            (ns.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object &&
             status.TryGetProperty("phase", out var phase) && phase.ValueKind == JsonValueKind.String && phase.GetString() == "Terminating"))
        {
            throw attributes.Forbidden(
                $"unable to create new content in namespace {attributes.Namespace} because it is being terminated",
                [new StatusCause("NamespaceTerminating", $"namespace {attributes.Namespace} is being terminated", "metadata.namespace")]);
        }
    }
}
