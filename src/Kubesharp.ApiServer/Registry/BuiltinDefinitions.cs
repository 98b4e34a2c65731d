using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Printing;
using Kubesharp.ApiServer.Registry.Strategies;

namespace Kubesharp.ApiServer.Registry;

/// <summary>The definitions of the built-in resources: the kind's strategy, schema, selectable fields and table columns.</summary>
internal static class BuiltinDefinitions
{
    public static IReadOnlyList<ResourceDefinition> Create(IReadOnlyList<ApiResource> resources, RegistryContext context)
    {
        // One strategy per group-resource: every version of a kind is validated and defaulted alike.
        var strategies = new Dictionary<string, ResourceStrategy>(StringComparer.Ordinal);
        var definitions = new List<ResourceDefinition>(resources.Count);
        foreach (var resource in resources)
        {
            if (!strategies.TryGetValue(resource.GroupResource, out var strategy))
            {
                strategies[resource.GroupResource] = strategy = ResourceStrategy.For(resource, context);
            }

            var definition = new ResourceDefinition(
                resource,
                strategy,
                Patches.SchemaOf(resource),
                ObjectFilter.FieldsOf(resource.GroupResource),
                BuiltinTables.For(resource.GroupResource),
                context.TimeProvider);

            // Both versions of HorizontalPodAutoscaler serve the objects stored as autoscaling/v2.
            definitions.Add(resource.GroupResource == "horizontalpodautoscalers.autoscaling" ? new Autoscaling.HorizontalPodAutoscalerVersion(definition) : definition);
        }

        return definitions;
    }
}
