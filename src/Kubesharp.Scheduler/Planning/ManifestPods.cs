using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Scheduling.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Plugins;

namespace Kubesharp.Scheduler.Planning;

/// <summary>
/// The pods a set of manifests would create, as their controllers would create them: a Deployment's or
/// ReplicaSet's replicas, a StatefulSet's ordinals, a Job's parallelism (at most its completions), one DaemonSet pod
/// per node whose labels and taints admit it (pinned there by node affinity, with the daemon tolerations), and bare
/// Pods. Container requests default to their limits as the API server defaults them.
/// </summary>
internal static class ManifestPods
{
    /// <summary>Bound on the pods one plan may ask for.</summary>
    public const int MaxPods = 50_000;

    // The names controllers generate carry a random suffix from this alphabet; a plan numbers them instead.
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static (List<(string Owner, Pod Pod)> Pods, List<string> Ignored, List<PriorityClass> Classes) Expand(
        IReadOnlyList<JsonObject> objects, string defaultNamespace, IReadOnlyList<NodeInfo> nodes, List<PlanFieldError> errors)
    {
        var pods = new List<(string, Pod)>();
        var ignored = new List<string>();
        var classes = new List<PriorityClass>();
        for (var i = 0; i < objects.Count; i++)
        {
            ExpandOne(objects[i], $"spec.objects[{i}]", defaultNamespace, nodes, pods, ignored, classes, errors);
            if (pods.Count > MaxPods)
            {
                errors.Add(new PlanFieldError("TooMany", "spec.objects", $"the manifests create more than {MaxPods} pods"));
                break;
            }
        }

        return (pods, ignored, classes);
    }

    private static void ExpandOne(JsonObject obj, string path, string defaultNamespace, IReadOnlyList<NodeInfo> nodes, List<(string, Pod)> pods, List<string> ignored, List<PriorityClass> classes, List<PlanFieldError> errors)
    {
        var kind = obj["kind"] is JsonValue k && k.TryGetValue<string>(out var kindText) ? kindText : null;
        var apiVersion = obj["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var versionText) ? versionText : null;
        if (string.IsNullOrEmpty(kind))
        {
            errors.Add(new PlanFieldError("FieldValueRequired", path + ".kind", "Required value"));
            return;
        }

        if (string.IsNullOrEmpty(apiVersion))
        {
            errors.Add(new PlanFieldError("FieldValueRequired", path + ".apiVersion", "Required value"));
            return;
        }

        var metadata = obj["metadata"] as JsonObject;
        var name = (string?)(metadata?["name"] as JsonValue);
        var ns = (string?)(metadata?["namespace"] as JsonValue) is { Length: > 0 } given ? given : defaultNamespace;
        if (kind == "List" && apiVersion == "v1")
        {
            var items = obj["items"] as JsonArray ?? [];
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is JsonObject item)
                {
                    ExpandOne(item, $"{path}.items[{i}]", defaultNamespace, nodes, pods, ignored, classes, errors);
                }
                else
                {
                    errors.Add(new PlanFieldError("FieldValueInvalid", $"{path}.items[{i}]", "must be an object"));
                }
            }

            return;
        }

        var workload = (apiVersion, kind) is ("v1", "Pod") or ("apps/v1", "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet") or ("batch/v1", "Job");
        if (!workload)
        {
            if ((apiVersion, kind) is ("scheduling.k8s.io/v1", "PriorityClass") && Read(obj, path, KubernetesJsonContext.Default.SchedulingV1PriorityClass, errors) is { } priorityClass)
            {
                // A class created by the same manifests counts for their pods.
                classes.Add(priorityClass);
            }

            ignored.Add($"{kind}/{name}");
            return;
        }

        var generateName = (string?)(metadata?["generateName"] as JsonValue);
        if (string.IsNullOrEmpty(name) && !(kind == "Pod" && !string.IsNullOrEmpty(generateName)))
        {
            errors.Add(new PlanFieldError("FieldValueRequired", path + ".metadata.name", "name or generateName is required"));
            return;
        }

        var owner = $"{kind}/{name ?? generateName}";
        if (kind == "Pod")
        {
            if (Read(obj, path, KubernetesJsonContext.Default.CoreV1Pod, errors) is not { } pod || !ValidSpec(pod.Spec, path + ".spec", errors))
            {
                return;
            }

            pods.Add((owner, NewPod(name ?? generateName + Suffix(0), ns, pod.Metadata?.Labels, pod.Spec!)));
            return;
        }

        var spec = obj["spec"] as JsonObject;
        var templateNode = spec?["template"] as JsonObject;
        if (templateNode is null)
        {
            errors.Add(new PlanFieldError("FieldValueRequired", path + ".spec.template", "Required value"));
            return;
        }

        var template = Read(templateNode, path + ".spec.template", KubernetesJsonContext.Default.CoreV1PodTemplateSpec, errors);
        if (template is null || !ValidSpec(template.Spec, path + ".spec.template.spec", errors))
        {
            return;
        }

        var labels = template.Metadata?.Labels;
        var podSpec = WithDefaultRequests(template.Spec!);
        switch (kind)
        {
            case "Deployment" or "ReplicaSet":
            {
                var replicas = Count(spec, "replicas", path, 1, errors);
                for (var i = 0; i < replicas; i++)
                {
                    pods.Add((owner, NewPod(name + "-" + Suffix(i), ns, labels, podSpec)));
                }

                break;
            }

            case "StatefulSet":
            {
                var replicas = Count(spec, "replicas", path, 1, errors);
                for (var i = 0; i < replicas; i++)
                {
                    var ordinal = name + "-" + i.ToString(CultureInfo.InvariantCulture);
                    var podLabels = new Dictionary<string, string>(labels ?? [], StringComparer.Ordinal)
                    {
                        ["statefulset.kubernetes.io/pod-name"] = ordinal,
                        ["apps.kubernetes.io/pod-index"] = i.ToString(CultureInfo.InvariantCulture),
                    };
                    pods.Add((owner, NewPod(ordinal, ns, podLabels, podSpec with { Hostname = ordinal })));
                }

                break;
            }

            case "Job":
            {
                var parallelism = Count(spec, "parallelism", path, 1, errors);
                var completions = spec?["completions"] is null ? parallelism : Count(spec, "completions", path, 1, errors);
                var active = Math.Min(parallelism, completions);
                if ((spec?["suspend"] as JsonValue)?.TryGetValue<bool>(out var suspended) == true && suspended)
                {
                    active = 0;
                }

                for (var i = 0; i < active; i++)
                {
                    pods.Add((owner, NewPod(name + "-" + Suffix(i), ns, labels, podSpec)));
                }

                break;
            }

            case "DaemonSet":
            {
                var daemonSpec = WithDaemonTolerations(podSpec);
                var probe = new PodInfo(NewPod(name!, ns, labels, daemonSpec));
                var taints = new TaintTolerationPlugin();
                var state = new CycleState();
                foreach (var node in nodes)
                {
                    // The DaemonSet controller's own check: the template's selector, affinity and tolerations, never resources.
                    if (!NodeAffinityPlugin.RequiredMatches(probe.Pod, node) || !taints.Filter(state, probe, node).IsSuccess)
                    {
                        continue;
                    }

                    pods.Add((owner, NewPod(name + "-" + node.Name, ns, labels, PinnedTo(daemonSpec, node.Name))));
                }

                break;
            }
        }
    }

    private static T? Read<T>(JsonObject node, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, List<PlanFieldError> errors)
        where T : class
    {
        try
        {
            return node.Deserialize(type);
        }
        catch (JsonException e)
        {
            var at = e.Path is { Length: > 1 } jsonPath ? path + jsonPath[1..] : path;
            errors.Add(new PlanFieldError("FieldValueInvalid", at, "Invalid value: " + (e.Message.Split(" Path:")[0])));
            return null;
        }
    }

    private static bool ValidSpec(PodSpec? spec, string path, List<PlanFieldError> errors)
    {
        if (spec?.Containers is not { Count: > 0 } containers)
        {
            errors.Add(new PlanFieldError("FieldValueRequired", path + ".containers", "Required value"));
            return false;
        }

        var valid = true;
        for (var i = 0; i < containers.Count; i++)
        {
            if (string.IsNullOrEmpty(containers[i].Name))
            {
                errors.Add(new PlanFieldError("FieldValueRequired", $"{path}.containers[{i}].name", "Required value"));
                valid = false;
            }
        }

        return valid;
    }

    private static int Count(JsonObject? spec, string field, string path, int fallback, List<PlanFieldError> errors)
    {
        var value = spec?[field];
        if (value is null)
        {
            return fallback;
        }

        if (value is JsonValue v && v.TryGetValue<int>(out var count) && count >= 0)
        {
            return count;
        }

        errors.Add(new PlanFieldError("FieldValueInvalid", $"{path}.spec.{field}", $"Invalid value: {value.ToJsonString()}: must be greater than or equal to 0"));
        return 0;
    }

    /// <summary>A deterministic suffix in the shape controllers generate (5 characters of their alphabet).</summary>
    private static string Suffix(int index)
    {
        Span<char> chars = stackalloc char[5];
        var n = index;
        for (var i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = SuffixAlphabet[n % SuffixAlphabet.Length];
            n /= SuffixAlphabet.Length;
        }

        return new string(chars);
    }

    private static Pod NewPod(string name, string ns, Dictionary<string, string>? labels, PodSpec spec) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = labels, Uid = "planned:" + ns + "/" + name },
        Spec = WithDefaultTolerations(spec),
    };

    /// <summary>The not-ready and unreachable NoExecute tolerations (300 s) the DefaultTolerationSeconds admission plugin gives every pod.</summary>
    private static PodSpec WithDefaultTolerations(PodSpec spec)
    {
        var tolerations = spec.Tolerations ?? [];
        var missing = ((string[])["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
            .Where(key => !tolerations.Any(t => (t.Key == key || (string.IsNullOrEmpty(t.Key) && t.Operator == "Exists")) && (string.IsNullOrEmpty(t.Effect) || t.Effect == "NoExecute")))
            .ToList();
        return missing.Count == 0
            ? spec
            : spec with { Tolerations = [.. tolerations, .. missing.Select(key => new Toleration { Key = key, Operator = "Exists", Effect = "NoExecute", TolerationSeconds = 300 })] };
    }

    /// <summary>Requests of containers that state only limits default to them, as the API server does.</summary>
    private static PodSpec WithDefaultRequests(PodSpec spec)
    {
        static List<Container>? Defaulted(List<Container>? containers) => containers?.Select(c =>
        {
            if (c.Resources?.Limits is not { Count: > 0 } limits)
            {
                return c;
            }

            var requests = c.Resources.Requests is { } given ? new Dictionary<string, Quantity>(given, StringComparer.Ordinal) : new Dictionary<string, Quantity>(StringComparer.Ordinal);
            foreach (var (resource, limit) in limits)
            {
                requests.TryAdd(resource, limit);
            }

            return c with { Resources = c.Resources with { Requests = requests } };
        }).ToList();

        return spec with { Containers = Defaulted(spec.Containers), InitContainers = Defaulted(spec.InitContainers) };
    }

    private static PodSpec WithDaemonTolerations(PodSpec spec)
    {
        var tolerations = spec.Tolerations is { } given ? new List<Toleration>(given) : [];
        void Add(string key, string effect)
        {
            tolerations.RemoveAll(t => t.Key == key && t.Effect == effect);
            tolerations.Add(new Toleration { Key = key, Operator = "Exists", Effect = effect });
        }

        Add("node.kubernetes.io/not-ready", "NoExecute");
        Add("node.kubernetes.io/unreachable", "NoExecute");
        Add("node.kubernetes.io/disk-pressure", "NoSchedule");
        Add("node.kubernetes.io/memory-pressure", "NoSchedule");
        Add("node.kubernetes.io/pid-pressure", "NoSchedule");
        Add("node.kubernetes.io/unschedulable", "NoSchedule");
        if (spec.HostNetwork == true)
        {
            Add("node.kubernetes.io/network-unavailable", "NoSchedule");
        }

        return spec with { Tolerations = tolerations };
    }

    private static PodSpec PinnedTo(PodSpec spec, string nodeName)
    {
        var affinity = spec.Affinity is { } given ? given with { } : new Affinity();
        affinity.NodeAffinity = (affinity.NodeAffinity is { } nodeAffinity ? nodeAffinity with { } : new NodeAffinity());
        affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new NodeSelector
        {
            NodeSelectorTerms = [new NodeSelectorTerm { MatchFields = [new NodeSelectorRequirement { Key = "metadata.name", Operator = "In", Values = [nodeName] }] }],
        };
        return spec with { Affinity = affinity };
    }
}
