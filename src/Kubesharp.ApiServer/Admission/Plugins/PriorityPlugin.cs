using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's Priority plugin: a new pod's priorityClassName resolves to its priority and preemption policy (the
/// globalDefault class, or 0, when it names none); PriorityClasses may have only one global default.
/// </summary>
internal sealed class PriorityPlugin(ResourceRegistry registry) : IMutatingAdmissionPlugin, IValidatingAdmissionPlugin
{
    public const string SystemNodeCritical = "system-node-critical";
    public const string SystemClusterCritical = "system-cluster-critical";

    /// <summary>The classes the server keeps (upstream's bootstrap priority classes).</summary>
    public static readonly (string Name, long Value, string Description)[] SystemClasses =
    [
        (SystemNodeCritical, 2000001000, "Used for system critical pods that must not be moved from their current node."),
        (SystemClusterCritical, 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ];

    public string Name => "Priority";

    public bool Handles(AdmissionAttributes attributes) => attributes.Subresource.Length == 0 && (
        attributes.Operation == AdmissionOperation.Create && attributes.Resource.GroupResource == "pods" ||
        attributes.Operation is AdmissionOperation.Create or AdmissionOperation.Update && attributes.Resource.GroupResource == "priorityclasses.scheduling.k8s.io");

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Resource.GroupResource != "pods" || attributes.Object?["spec"] is not JsonObject spec)
        {
            return ValueTask.CompletedTask;
        }

        var className = (string?)spec["priorityClassName"];
        long priority = 0;
        var preemption = "PreemptLowerPriority";
        JsonElement? found = null;
        if (string.IsNullOrEmpty(className))
        {
            found = Classes().Select(c => (JsonElement?)c.Root).FirstOrDefault(c => c!.Value.TryGetProperty("globalDefault", out var g) && g.ValueKind == JsonValueKind.True);
            if (found is { } d)
            {
                spec["priorityClassName"] = d.GetProperty("metadata").GetProperty("name").GetString();
            }
        }
        else
        {
            var resource = registry.FindByGroupResource("priorityclasses.scheduling.k8s.io");
            var obj = resource is null ? null : registry.Get(resource, null, className);
            found = obj?.Root ?? throw attributes.Forbidden($"no PriorityClass with name {className} was found");
        }

        if (found is { } pc)
        {
            priority = pc.TryGetProperty("value", out var v) && v.TryGetInt64(out var n) ? n : 0;
            if (pc.TryGetProperty("preemptionPolicy", out var p) && p.ValueKind == JsonValueKind.String)
            {
                preemption = p.GetString()!;
            }
        }

        if (spec["priority"] is JsonValue given && given.TryGetValue<long>(out var asked) && asked != priority)
        {
            throw attributes.Forbidden($"the integer value of priority ({asked}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name");
        }

        spec["priority"] = priority;
        if (spec["preemptionPolicy"] is JsonValue givenPolicy && (string?)givenPolicy is { } askedPolicy && askedPolicy != preemption)
        {
            throw attributes.Forbidden($"the string value of PreemptionPolicy ({askedPolicy}) must not be provided in pod spec; priority admission controller computed {preemption} from the given PriorityClass name");
        }

        spec["preemptionPolicy"] = preemption;
        return ValueTask.CompletedTask;
    }

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Resource.GroupResource == "pods" || attributes.Object is not { } obj)
        {
            return ValueTask.CompletedTask;
        }

        if ((bool?)obj["globalDefault"] == true)
        {
            var other = Classes().FirstOrDefault(c => c.Name != attributes.Name && c.Root.TryGetProperty("globalDefault", out var g) && g.ValueKind == JsonValueKind.True);
            if (other is not null)
            {
                throw attributes.Forbidden($"PriorityClass {other.Name} is already marked as default. Only one default can exist");
            }
        }

        return ValueTask.CompletedTask;
    }

    private IEnumerable<Caching.CachedObject> Classes() =>
        registry.FindByGroupResource("priorityclasses.scheduling.k8s.io") is { } resource
            ? registry.Cache.For(resource).Snapshot.Values
            : [];
}
