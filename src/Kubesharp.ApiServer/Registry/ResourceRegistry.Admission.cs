using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Admission;

namespace Kubesharp.ApiServer.Registry;

/// <summary>How the registry's writes meet the admission chain: the attributes of one write.</summary>
internal sealed partial class ResourceRegistry
{
    /// <summary>The admission stages every client write passes (see <see cref="AdmissionChain"/>).</summary>
    public AdmissionChain Admission { get; }

    /// <summary>
    /// Admission for a request that is not a plain write of the resource (a binding, an eviction, a connection):
    /// the chain sees <paramref name="obj"/> (the Binding, Eviction or connect options) under the subresource.
    /// </summary>
    public async Task AdmitAsync(AdmissionOperation operation, ApiResource resource, string subresource, string? @namespace, string name, JsonObject? obj, bool dryRun, AdmissionContext context, CancellationToken cancellationToken)
    {
        var attributes = Attributes(operation, resource, subresource, @namespace, name, obj, null, dryRun, context);
        await Admission.MutateAsync(attributes, cancellationToken).ConfigureAwait(false);
        await Admission.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
    }

    private static AdmissionAttributes Attributes(
        AdmissionOperation operation,
        ApiResource resource,
        string? subresource,
        string? @namespace,
        string name,
        JsonObject? obj,
        JsonObject? old,
        bool dryRun,
        AdmissionContext context)
    {
        var sub = subresource ?? string.Empty;
        var kind = sub.Length > 0 && resource.SubresourceKinds.TryGetValue(sub, out var subKind)
            ? subKind
            : new GroupVersionKind(resource.Group, resource.Version, resource.Kind);
        var optionsKind = operation switch
        {
            AdmissionOperation.Create => "CreateOptions",
            AdmissionOperation.Update => "UpdateOptions",
            AdmissionOperation.Delete => "DeleteOptions",
            _ => null,
        };
        JsonObject? options = null;
        if (optionsKind is not null)
        {
            options = new JsonObject { ["kind"] = optionsKind, ["apiVersion"] = "meta.k8s.io/v1" };
            if (dryRun)
            {
                options["dryRun"] = new JsonArray("All");
            }
        }

        return new AdmissionAttributes
        {
            Operation = operation,
            Object = obj,
            OldObject = old,
            Resource = resource,
            Subresource = sub,
            Kind = kind,
            Namespace = @namespace ?? string.Empty,
            Name = name,
            User = context.User,
            DryRun = dryRun,
            Options = options,
            Context = context,
        };
    }

    /// <summary>A mutating stage may replace the object; what identifies it stays the server's.</summary>
    private static JsonObject KeepIdentity(JsonObject mutated, JsonObject before)
    {
        if (ReferenceEquals(mutated, before))
        {
            return mutated;
        }

        if (mutated["metadata"] is not JsonObject meta)
        {
            mutated["metadata"] = meta = [];
        }

        var beforeMeta = (JsonObject)before["metadata"]!;
        foreach (var field in new[] { "name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds" })
        {
            if (beforeMeta[field] is { } value)
            {
                meta[field] = value.DeepClone();
            }
            else
            {
                meta.Remove(field);
            }
        }

        mutated["apiVersion"] = before["apiVersion"]?.DeepClone();
        mutated["kind"] = before["kind"]?.DeepClone();
        return mutated;
    }
}
