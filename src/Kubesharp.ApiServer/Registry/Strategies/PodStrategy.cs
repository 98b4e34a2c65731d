using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

internal sealed class PodStrategy(ApiResource resource, RegistryContext context) : ResourceStrategy(resource)
{
    public override bool TracksGeneration => true;

    public override void ApplySchemeDefaults(JsonObject obj)
    {
        if (obj["spec"] is JsonObject spec)
        {
            PodSpecDefaults.ForPod(spec);
        }
    }

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        if (obj["spec"] is JsonObject spec)
        {
            PodSpecDefaults.ForPod(spec);
            // Mirror pods of a node's static pods run under no service account, as upstream's ServiceAccount admission leaves them.
            if (obj["metadata"]?["annotations"]?["kubernetes.io/config.mirror"] is null)
            {
                AdmitNewPod(spec);
            }

            ServiceAccountTokenVolume.Mount(obj, spec, context.Cache);
        }

        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(obj["spec"] as JsonObject) };
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        if (updated["spec"] is JsonObject spec)
        {
            PodSpecDefaults.ForPod(spec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["spec"] is not JsonObject spec)
        {
            causes.Add(Required("spec.containers"));
            return;
        }

        ValidatePodSpec(spec, "spec", causes);
        if (old?["spec"] is JsonObject oldSpec && causes.Count == 0 && !SameExceptMutable(spec, oldSpec))
        {
            causes.Add(Forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }
    }

    /// <summary>
    /// A status update carries the stored spec unchanged, so, as upstream's, it checks what every object's update does but
    /// not the spec again: a pod stored under older rules keeps getting its status written, and the node agent's every
    /// status write does not re-check a spec it cannot change.
    /// </summary>
    public override void ValidateStatusUpdate(JsonObject obj, JsonObject old, List<StatusCause> causes) => base.Validate(obj, old, causes);

    // Compared in place rather than on trimmed copies: most updates of a pod's main resource leave its spec as it was.
    private static bool SameExceptMutable(JsonObject spec, JsonObject oldSpec) =>
        SameFields(spec, oldSpec, ImmutableSpecField, SameSpecField)
        && ((string?)oldSpec["nodeName"] is null or "" || (string?)oldSpec["nodeName"] == (string?)spec["nodeName"]);

    // The scheduler binds through the binding subresource; a nodeName set by an update is allowed only when unset before.
    private static bool ImmutableSpecField(string name) => name is not ("activeDeadlineSeconds" or "tolerations" or "nodeName");

    private static bool SameSpecField(string name, JsonNode? a, JsonNode? b)
    {
        if (name is not ("containers" or "initContainers") || a is not JsonArray left || b is not JsonArray right)
        {
            return JsonNode.DeepEquals(a, b);
        }

        if (left.Count != right.Count)
        {
            return false;
        }

        for (var i = 0; i < left.Count; i++)
        {
            var same = left[i] is JsonObject l && right[i] is JsonObject r
                ? SameFields(l, r, static field => field != "image", static (_, x, y) => JsonNode.DeepEquals(x, y))
                : JsonNode.DeepEquals(left[i], right[i]);
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether two objects hold the same compared fields (whatever their order), each compared by <paramref name="same"/>.</summary>
    private static bool SameFields(JsonObject a, JsonObject b, Func<string, bool> compared, Func<string, JsonNode?, JsonNode?, bool> same)
    {
        var count = 0;
        for (var i = 0; i < a.Count; i++)
        {
            var (name, value) = a.GetAt(i);
            if (!compared(name))
            {
                continue;
            }

            count++;
            if (!b.TryGetPropertyValue(name, out var other) || !same(name, value, other))
            {
                return false;
            }
        }

        for (var i = 0; i < b.Count; i++)
        {
            if (compared(b.GetAt(i).Key))
            {
                count--;
            }
        }

        return count == 0;
    }

    /// <summary>
    /// The service account a new Pod runs as when it names none; templates never get it, so applying a Deployment
    /// twice stays unchanged. Priority and the default tolerations come from admission (Admission/Plugins).
    /// </summary>
    private static void AdmitNewPod(JsonObject spec)
    {
        if (spec["serviceAccountName"] is null && spec["serviceAccount"] is null)
        {
            spec["serviceAccountName"] = "default";
            spec["serviceAccount"] = "default";
        }
    }

    public static void ValidatePodSpec(JsonObject spec, string path, List<StatusCause> causes)
    {
        if (spec["containers"] is not JsonArray containers || containers.Count == 0)
        {
            causes.Add(Required($"{path}.containers"));
        }
        else
        {
            ValidateContainers(containers, $"{path}.containers", causes);
        }

        if (spec["initContainers"] is JsonArray init)
        {
            ValidateContainers(init, $"{path}.initContainers", causes);
        }

        if (spec["restartPolicy"] is JsonValue rp && rp.TryGetValue<string>(out var policy) && policy is not ("Always" or "OnFailure" or "Never"))
        {
            causes.Add(Unsupported($"{path}.restartPolicy", policy, ["Always", "OnFailure", "Never"]));
        }
    }

    private static void ValidateContainers(JsonArray containers, string path, List<StatusCause> causes)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i] is not JsonObject c)
            {
                continue;
            }

            var name = (string?)c["name"];
            if (string.IsNullOrEmpty(name))
            {
                causes.Add(Required($"{path}[{i}].name"));
            }
            else if (CheckLabel(name) is { } problem)
            {
                causes.Add(Invalid($"{path}[{i}].name", name, problem));
            }
            else if (!names.Add(name))
            {
                causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{name}\"", $"{path}[{i}].name"));
            }

            if (string.IsNullOrWhiteSpace((string?)c["image"]))
            {
                causes.Add(Required($"{path}[{i}].image"));
            }

            if (c["ports"] is JsonArray ports)
            {
                for (var p = 0; p < ports.Count; p++)
                {
                    var port = ports[p]?["containerPort"];
                    if (port is null)
                    {
                        causes.Add(Required($"{path}[{i}].ports[{p}].containerPort"));
                    }
                    else if (JsonNumber.Int64(port) is not (>= 1 and <= 65535))
                    {
                        causes.Add(Invalid($"{path}[{i}].ports[{p}].containerPort", port.ToJsonString(), "must be between 1 and 65535, inclusive"));
                    }
                }
            }
        }
    }

    private static string QosClass(JsonObject? spec)
    {
        if (spec?["containers"] is not JsonArray containers)
        {
            return "BestEffort";
        }

        var any = false;
        var guaranteed = true;
        foreach (var c in containers.OfType<JsonObject>())
        {
            var requests = c["resources"]?["requests"] as JsonObject;
            var limits = c["resources"]?["limits"] as JsonObject;
            if ((requests?.Count ?? 0) > 0 || (limits?.Count ?? 0) > 0)
            {
                any = true;
            }

            if (limits?["cpu"] is null || limits["memory"] is null)
            {
                guaranteed = false;
                continue;
            }

            foreach (var r in new[] { "cpu", "memory" })
            {
                if (requests?[r] is { } req && !JsonNode.DeepEquals(req, limits[r]))
                {
                    guaranteed = false;
                }
            }
        }

        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }
}
