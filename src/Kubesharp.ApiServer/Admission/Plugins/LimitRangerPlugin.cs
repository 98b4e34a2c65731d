using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's LimitRanger: the LimitRanges of a namespace give new pods' containers their default requests and limits,
/// and refuse pods, containers and claims outside min, max and maxLimitRequestRatio, with upstream's messages.
/// </summary>
internal sealed class LimitRangerPlugin(ResourceRegistry registry) : IMutatingAdmissionPlugin, IValidatingAdmissionPlugin
{
    public string Name => "LimitRanger";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Subresource.Length == 0 && attributes.Operation == AdmissionOperation.Create &&
        attributes.Resource.GroupResource is "pods" or "persistentvolumeclaims";

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Resource.GroupResource != "pods" || attributes.Object?["spec"] is not JsonObject spec)
        {
            return ValueTask.CompletedTask;
        }

        var items = Items(attributes.Namespace, "Container").ToList();
        if (items.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        foreach (var container in Containers(spec))
        {
            // Requests a container's limits give it are already there: the pod defaults precede admission.
            var resources = container["resources"] as JsonObject ?? (JsonObject)(container["resources"] = new JsonObject());
            foreach (var item in items)
            {
                var (limits, requests) = Defaults(item);
                Fill(resources, "limits", limits);
                Fill(resources, "requests", requests);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        if (attributes.Resource.GroupResource == "pods" && attributes.Object?["spec"] is JsonObject spec)
        {
            var containers = Containers(spec).ToList();
            foreach (var item in Items(attributes.Namespace, "Container"))
            {
                foreach (var container in containers)
                {
                    Check(item, "Container", container["resources"]?["requests"] as JsonObject, container["resources"]?["limits"] as JsonObject, errors);
                }
            }

            foreach (var item in Items(attributes.Namespace, "Pod"))
            {
                Check(item, "Pod", Sum(containers, "requests"), Sum(containers, "limits"), errors);
            }
        }
        else if (attributes.Object?["spec"]?["resources"] is JsonObject claim)
        {
            foreach (var item in Items(attributes.Namespace, "PersistentVolumeClaim"))
            {
                Check(item, "PersistentVolumeClaim", claim["requests"] as JsonObject, claim["limits"] as JsonObject, errors);
            }
        }

        if (errors.Count > 0)
        {
            throw attributes.Forbidden(errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]");
        }

        return ValueTask.CompletedTask;
    }

    private IEnumerable<JsonObject> Items(string @namespace, string type)
    {
        if (registry.FindByGroupResource("limitranges") is not { } resource)
        {
            yield break;
        }

        foreach (var range in registry.Cache.For(resource).InNamespace(@namespace).Values)
        {
            foreach (var item in (range.ToNode()["spec"]?["limits"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                if ((string?)item["type"] == type)
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>Upstream's LimitRange defaulting: default limit from max, default request from the default limit, then from min.</summary>
    private static (Dictionary<string, JsonNode> Limits, Dictionary<string, JsonNode> Requests) Defaults(JsonObject item)
    {
        var limits = Map(item["default"]);
        foreach (var (name, value) in Map(item["max"]))
        {
            limits.TryAdd(name, value);
        }

        var requests = Map(item["defaultRequest"]);
        foreach (var (name, value) in limits)
        {
            requests.TryAdd(name, value);
        }

        foreach (var (name, value) in Map(item["min"]))
        {
            requests.TryAdd(name, value);
        }

        return (limits, requests);
    }

    private static void Fill(JsonObject resources, string field, Dictionary<string, JsonNode> defaults)
    {
        if (defaults.Count == 0)
        {
            return;
        }

        var target = resources[field] as JsonObject ?? (JsonObject)(resources[field] = new JsonObject());
        foreach (var (name, value) in defaults)
        {
            if (target[name] is null)
            {
                target[name] = value.DeepClone();
            }
        }
    }

    private static void Check(JsonObject item, string type, JsonObject? requests, JsonObject? limits, List<string> errors)
    {
        foreach (var (name, min) in Map(item["min"]))
        {
            var minimum = Quantity.Parse((string)min!);
            if (Get(requests, name) is not { } request)
            {
                errors.Add($"minimum {name} usage per {type} is {min}.  No request is specified");
            }
            else if (request.Value < minimum)
            {
                errors.Add($"minimum {name} usage per {type} is {min}, but request is {request.Text}");
            }
        }

        foreach (var (name, max) in Map(item["max"]))
        {
            var maximum = Quantity.Parse((string)max!);
            if (Get(limits, name) is not { } limit)
            {
                // A claim states its size as a request.
                if (type == "PersistentVolumeClaim" && Get(requests, name) is { } size && size.Value > maximum)
                {
                    errors.Add($"maximum {name} usage per {type} is {max}, but request is {size.Text}");
                }
                else if (type != "PersistentVolumeClaim")
                {
                    errors.Add($"maximum {name} usage per {type} is {max}.  No limit is specified");
                }
            }
            else if (limit.Value > maximum)
            {
                errors.Add($"maximum {name} usage per {type} is {max}, but limit is {limit.Text}");
            }
        }

        foreach (var (name, ratio) in Map(item["maxLimitRequestRatio"]))
        {
            if (Get(limits, name) is not { } limit)
            {
                errors.Add($"{name} max limit to request ratio per {type} is {ratio}, but no limit is specified");
                continue;
            }

            if (Get(requests, name) is not { } request || request.Value.IsZero)
            {
                errors.Add($"{name} max limit to request ratio per {type} is {ratio}, but no request is specified or request is 0");
                continue;
            }

            var actual = (double)limit.Value.MilliValue() / request.Value.MilliValue();
            if (actual > Quantity.Parse((string)ratio!).ToDouble())
            {
                errors.Add($"{name} max limit to request ratio per {type} is {ratio}, but provided ratio is {actual.ToString("F6", CultureInfo.InvariantCulture)}");
            }
        }
    }

    private static JsonObject Sum(IEnumerable<JsonObject> containers, string field)
    {
        var totals = new Dictionary<string, Quantity>(StringComparer.Ordinal);
        foreach (var container in containers)
        {
            foreach (var (name, value) in Map(container["resources"]?[field]))
            {
                if (Quantity.TryParse((string?)value, out var q))
                {
                    totals[name] = totals.TryGetValue(name, out var sum) ? sum.Add(q) : q;
                }
            }
        }

        var result = new JsonObject();
        foreach (var (name, total) in totals)
        {
            result[name] = total.ToString();
        }

        return result;
    }

    private static (Quantity Value, string Text)? Get(JsonObject? map, string name) =>
        (string?)map?[name] is { } text && Quantity.TryParse(text, out var q) ? (q, text) : null;

    private static Dictionary<string, JsonNode> Map(JsonNode? node)
    {
        var result = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var (name, value) in node as JsonObject ?? [])
        {
            if (value is JsonValue v && v.TryGetValue<string>(out _))
            {
                result[name] = value;
            }
        }

        return result;
    }

    private static IEnumerable<JsonObject> Containers(JsonObject spec) =>
        ((spec["initContainers"] as JsonArray)?.OfType<JsonObject>() ?? []).Concat((spec["containers"] as JsonArray)?.OfType<JsonObject>() ?? []);
}
