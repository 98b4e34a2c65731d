using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Server-side printing (meta.k8s.io/v1 Table): the columns users know from upstream, per resource.</summary>
internal sealed class TablePrinter(TimeProvider timeProvider)
{
    private const string None = "<none>";

    private static readonly TableColumn NameColumn = new("Name", "string", "name", "Name must be unique within a namespace.");
    private static readonly TableColumn AgeColumn = new("Age", "string", string.Empty, "How long ago the object was created.");

    public static IReadOnlyList<TableColumn> Columns(ApiResource resource) => resource.GroupResource switch
    {
        "pods" =>
        [
            NameColumn, Col("Ready", "Readiness gates met."), Col("Status", "Pod status."),
            Col("Restarts", "Container restarts, with the time of the last."), AgeColumn,
            Col("IP", "Pod IP.", 1), Col("Node", "Node.", 1),
            Col("Nominated Node", "Node nominated by preemption.", 1), Col("Readiness Gates", "Readiness gates.", 1),
        ],
        "deployments.apps" =>
        [
            NameColumn, Col("Ready", "Ready pods."), Col("Up-to-date", "Pods on the current template."),
            Col("Available", "Available pods."), AgeColumn,
            Col("Containers", "Container names.", 1), Col("Images", "Container images.", 1),
            Col("Selector", "Pod selector.", 1),
        ],
        "replicasets.apps" or "replicationcontrollers" =>
        [
            NameColumn, Col("Desired", "Desired replicas."), Col("Current", "Current replicas."),
            Col("Ready", "Ready replicas."), AgeColumn,
            Col("Containers", "Container names.", 1), Col("Images", "Container images.", 1),
            Col("Selector", "Pod selector.", 1),
        ],
        "statefulsets.apps" =>
        [
            NameColumn, Col("Ready", "Ready pods."), AgeColumn,
            Col("Containers", "Container names.", 1), Col("Images", "Container images.", 1),
        ],
        "daemonsets.apps" =>
        [
            NameColumn, Col("Desired", "Nodes that should run a pod."), Col("Current", "Nodes running a pod."),
            Col("Ready", "Nodes with a ready pod."),
            Col("Up-to-date", "Nodes running the current pod."), Col("Available", "Nodes with an available pod."),
            Col("Node Selector", "Node selector."), AgeColumn,
            Col("Containers", "Container names.", 1), Col("Images", "Container images.", 1),
            Col("Selector", "Pod selector.", 1),
        ],
        "jobs.batch" =>
        [
            NameColumn, Col("Status", "Job status."), Col("Completions", "Completions."),
            Col("Duration", "How long the job ran."), AgeColumn,
            Col("Containers", "Container names.", 1), Col("Images", "Container images.", 1),
            Col("Selector", "Pod selector.", 1),
        ],
        "services" =>
        [
            NameColumn, Col("Type", "Service type."), Col("Cluster-IP", "Cluster IP."), Col("External-IP", "External IP."),
            Col("Port(s)", "Service ports."), AgeColumn, Col("Selector", "Pod selector.", 1),
        ],
        "nodes" =>
        [
            NameColumn, Col("Status", "Node status."), Col("Roles", "Node roles."), AgeColumn, Col("Version", "Kubelet version."),
            Col("Internal-IP", "Internal address.", 1), Col("External-IP", "External address.", 1),
            Col("OS-Image", "Operating system.", 1),
            Col("Kernel-Version", "Kernel version.", 1),
            Col("Container-Runtime", "Container runtime and version.", 1),
        ],
        "namespaces" => [NameColumn, Col("Status", "Phase."), AgeColumn],
        "configmaps" => [NameColumn, Col("Data", "Data entries.", type: "integer"), AgeColumn],
        "secrets" => [NameColumn, Col("Type", "Secret type."), Col("Data", "Data entries.", type: "integer"), AgeColumn],
        "serviceaccounts" => [NameColumn, Col("Secrets", "Secrets.", type: "integer"), AgeColumn],
        "endpoints" => [NameColumn, Col("Endpoints", "Endpoint addresses."), AgeColumn],
        "leases.coordination.k8s.io" => [NameColumn, Col("Holder", "Holder."), AgeColumn],
        "events" or "events.events.k8s.io" =>
        [
            Col("Last Seen", "Last seen."), Col("Type", "Event type."), Col("Reason", "Reason."),
            Col("Object", "Involved object."), Col("Subobject", "Involved field.", 1), Col("Source", "Reporting component.", 1),
            Col("Message", "Message."), Col("First Seen", "First seen.", 1), Col("Count", "Occurrences.", 1, "integer"),
            Col("Name", "Event name.", 1),
        ],
        "flowschemas.flowcontrol.apiserver.k8s.io" =>
        [
            NameColumn, Col("PriorityLevel", "Priority level of matching requests."), Col("MatchingPrecedence", "Lower is consulted first.", type: "integer"),
            Col("DistinguisherMethod", "How flows are told apart."), AgeColumn, Col("MissingPL", "Whether the priority level is missing (Dangling)."),
        ],
        "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io" =>
        [
            NameColumn, Col("Type", "Exempt or Limited."), Col("NominalConcurrencyShares", "Share of the server's seats."), Col("Queues", "Queues."),
            Col("HandSize", "Queues dealt to each flow."), Col("QueueLengthLimit", "Requests per queue."), AgeColumn,
        ],
        _ => [NameColumn, AgeColumn],
    };

    private static TableColumn Col(string name, string description, int priority = 0, string type = "string") => new(name, type, string.Empty, description, priority);

    public JsonArray Cells(ApiResource resource, JsonElement o)
    {
        var name = Str(o, "metadata", "name") ?? string.Empty;
        var age = Age(o);
        var spec = Prop(o, "spec");
        var status = Prop(o, "status");
        return resource.GroupResource switch
        {
            "pods" => PodCells(o, name, age),
            "deployments.apps" => Row(name, $"{Int(status, "readyReplicas")}/{Int(spec, "replicas")}", Int(status, "updatedReplicas"), Int(status, "availableReplicas"), age,
                Containers(o, true), Containers(o, false), Selector(Prop(spec, "selector"))),
            "replicasets.apps" => Row(name, Int(spec, "replicas"), Int(status, "replicas"), Int(status, "readyReplicas"), age,
                Containers(o, true), Containers(o, false), Selector(Prop(spec, "selector"))),
            "replicationcontrollers" => Row(name, Int(spec, "replicas"), Int(status, "replicas"), Int(status, "readyReplicas"), age,
                Containers(o, true), Containers(o, false), MapSelector(Prop(spec, "selector"))),
            "statefulsets.apps" => Row(name, $"{Int(status, "readyReplicas")}/{Int(spec, "replicas")}", age, Containers(o, true), Containers(o, false)),
            "daemonsets.apps" => Row(name, Int(status, "desiredNumberScheduled"), Int(status, "currentNumberScheduled"), Int(status, "numberReady"), Int(status, "updatedNumberScheduled"),
                Int(status, "numberAvailable"), MapSelector(Prop(Prop(Prop(spec, "template"), "spec"), "nodeSelector")), age, Containers(o, true), Containers(o, false), Selector(Prop(spec, "selector"))),
            "jobs.batch" => JobCells(o, name, age),
            "services" => ServiceCells(o, name, age),
            "nodes" => NodeCells(o, name, age),
            "namespaces" => Row(name, Str(status, "phase") ?? string.Empty, age),
            "configmaps" => Row(name, Count(o, "data") + Count(o, "binaryData"), age),
            "secrets" => Row(name, Str(o, "type") ?? string.Empty, Count(o, "data"), age),
            "serviceaccounts" => Row(name, Prop(o, "secrets") is { ValueKind: JsonValueKind.Array } secrets ? secrets.GetArrayLength() : 0, age),
            "endpoints" => Row(name, Endpoints(o), age),
            "leases.coordination.k8s.io" => Row(name, Str(spec, "holderIdentity") ?? string.Empty, age),
            "events" => EventCells(o, name, core: true),
            "events.events.k8s.io" => EventCells(o, name, core: false),
            "flowschemas.flowcontrol.apiserver.k8s.io" => Row(name, Str(Prop(spec, "priorityLevelConfiguration"), "name") ?? string.Empty, Int(spec, "matchingPrecedence"),
                Str(Prop(spec, "distinguisherMethod"), "type") ?? None, age, DanglingStatus(status)),
            "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io" => PriorityLevelCells(spec, name, age),
            _ => Row(name, age),
        };
    }

    private static string DanglingStatus(JsonElement status) =>
        Prop(status, "conditions") is { ValueKind: JsonValueKind.Array } conditions
            ? conditions.EnumerateArray().Where(c => Str(c, "type") == "Dangling").Select(c => Str(c, "status")).FirstOrDefault() ?? "?"
            : "?";

    private static JsonArray PriorityLevelCells(JsonElement spec, string name, string age)
    {
        var limited = Prop(spec, "limited");
        var queuing = Prop(Prop(limited, "limitResponse"), "queuing");
        object Number(JsonElement e, string field) => Prop(e, field) is { ValueKind: JsonValueKind.Number } ? Long(e, field) : None;
        return Row(name, Str(spec, "type") ?? string.Empty, Number(limited, "nominalConcurrencyShares"), Number(queuing, "queues"), Number(queuing, "handSize"), Number(queuing, "queueLengthLimit"), age);
    }

    private JsonArray PodCells(JsonElement o, string name, string age)
    {
        var spec = Prop(o, "spec");
        var status = Prop(o, "status");
        var total = Prop(spec, "containers") is { ValueKind: JsonValueKind.Array } containers ? containers.GetArrayLength() : 0;
        var ready = 0;
        var restarts = 0L;
        DateTimeOffset? lastRestart = null;
        var reason = Str(status, "reason") ?? Str(status, "phase") ?? "Pending";
        var initializing = false;
        if (Prop(status, "initContainerStatuses") is { ValueKind: JsonValueKind.Array } initStatuses)
        {
            var i = 0;
            var initTotal = Prop(spec, "initContainers") is { ValueKind: JsonValueKind.Array } init ? init.GetArrayLength() : 0;
            foreach (var cs in initStatuses.EnumerateArray())
            {
                restarts += Long(cs, "restartCount");
                var state = Prop(cs, "state");
                if (Prop(state, "terminated") is { ValueKind: JsonValueKind.Object } t && Long(t, "exitCode") == 0)
                {
                    i++;
                    continue;
                }

                initializing = true;
                if (Prop(state, "terminated") is { ValueKind: JsonValueKind.Object } failed)
                {
                    reason = "Init:" + (Str(failed, "reason") ?? "Error");
                }
                else if (Prop(state, "waiting") is { ValueKind: JsonValueKind.Object } w && Str(w, "reason") is { Length: > 0 } wr && wr != "PodInitializing")
                {
                    reason = "Init:" + wr;
                }
                else
                {
                    reason = string.Create(CultureInfo.InvariantCulture, $"Init:{i}/{initTotal}");
                }

                break;
            }
        }

        if (!initializing && Prop(status, "containerStatuses") is { ValueKind: JsonValueKind.Array } statuses)
        {
            var hasRunning = false;
            foreach (var cs in statuses.EnumerateArray().Reverse())
            {
                restarts += Long(cs, "restartCount");
                var state = Prop(cs, "state");
                if (Prop(Prop(cs, "lastState"), "terminated") is { ValueKind: JsonValueKind.Object } lastTerm && Str(lastTerm, "finishedAt") is { } finished &&
                    DateTimeOffset.TryParse(finished, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && (lastRestart is null || at > lastRestart))
                {
                    lastRestart = at;
                }

                if (Prop(state, "waiting") is { ValueKind: JsonValueKind.Object } w && Str(w, "reason") is { Length: > 0 } wr)
                {
                    reason = wr;
                }
                else if (Prop(state, "terminated") is { ValueKind: JsonValueKind.Object } t)
                {
                    reason = Str(t, "reason") ?? (Str(t, "signal") is { } sig ? $"Signal:{sig}" : $"ExitCode:{Long(t, "exitCode")}");
                }
                else if (Prop(state, "running") is { ValueKind: JsonValueKind.Object } && Prop(cs, "ready") is { ValueKind: JsonValueKind.True })
                {
                    hasRunning = true;
                    ready++;
                }
                else if (Prop(state, "running") is { ValueKind: JsonValueKind.Object })
                {
                    hasRunning = true;
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                reason = "Running";
            }
        }

        if (Str(o, "metadata", "deletionTimestamp") is not null)
        {
            reason = Str(status, "reason") == "NodeLost" ? "Unknown" : "Terminating";
        }

        var restartText = restarts.ToString(CultureInfo.InvariantCulture);
        if (lastRestart is { } last)
        {
            restartText += $" ({HumanDuration.Format(timeProvider.GetUtcNow() - last)} ago)";
        }

        var gates = Prop(spec, "readinessGates") is { ValueKind: JsonValueKind.Array } g && g.GetArrayLength() > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{g.EnumerateArray().Count(gate => IsConditionTrue(status, Str(gate, "conditionType")))}/{g.GetArrayLength()}")
            : None;
        return Row(
            name,
            string.Create(CultureInfo.InvariantCulture, $"{ready}/{total}"),
            reason,
            restartText,
            age,
            Str(status, "podIP") ?? None,
            Str(spec, "nodeName") ?? None,
            Str(status, "nominatedNodeName") ?? None,
            gates);
    }

    private JsonArray JobCells(JsonElement o, string name, string age)
    {
        var spec = Prop(o, "spec");
        var status = Prop(o, "status");
        var completions = Prop(spec, "completions") is { ValueKind: JsonValueKind.Number } c
            ? string.Create(CultureInfo.InvariantCulture, $"{Long(status, "succeeded")}/{c.GetInt64()}")
            : string.Create(CultureInfo.InvariantCulture, $"{Long(status, "succeeded")}/1 of {Long(spec, "parallelism")}");
        var state = IsConditionTrue(status, "Complete") ? "Complete"
            : IsConditionTrue(status, "Failed") ? "Failed"
            : Str(o, "metadata", "deletionTimestamp") is not null ? "Terminating"
            : IsConditionTrue(status, "Suspended") ? "Suspended"
            : IsConditionTrue(status, "FailureTarget") ? "FailureTarget"
            : IsConditionTrue(status, "SuccessCriteriaMet") ? "SuccessCriteriaMet"
            : "Running";
        var duration = string.Empty;
        if (Time(status, "startTime") is { } start)
        {
            var end = Time(status, "completionTime") ?? timeProvider.GetUtcNow();
            duration = HumanDuration.Format(end - start);
        }

        return Row(name, state, completions, duration, age, Containers(o, true), Containers(o, false), Selector(Prop(spec, "selector")));
    }

    private static JsonArray ServiceCells(JsonElement o, string name, string age)
    {
        var spec = Prop(o, "spec");
        var type = Str(spec, "type") ?? "ClusterIP";
        var external = None;
        var externalIps = Prop(spec, "externalIPs") is { ValueKind: JsonValueKind.Array } ips ? ips.EnumerateArray().Select(i => i.GetString()).ToList() : [];
        switch (type)
        {
            case "ExternalName":
                external = Str(spec, "externalName") ?? None;
                break;
            case "LoadBalancer":
                var ingress = Prop(Prop(Prop(o, "status"), "loadBalancer"), "ingress") is { ValueKind: JsonValueKind.Array } lb
                    ? lb.EnumerateArray().Select(i => Str(i, "ip") ?? Str(i, "hostname")).Where(s => s is not null).ToList()
                    : [];
                var all = externalIps.Concat(ingress).ToList();
                external = all.Count > 0 ? string.Join(",", all) : "<pending>";
                break;
            default:
                if (externalIps.Count > 0)
                {
                    external = string.Join(",", externalIps);
                }

                break;
        }

        var ports = Prop(spec, "ports") is { ValueKind: JsonValueKind.Array } list
            ? string.Join(",", list.EnumerateArray().Select(p =>
                Prop(p, "nodePort") is { ValueKind: JsonValueKind.Number } np
                    ? string.Create(CultureInfo.InvariantCulture, $"{Long(p, "port")}:{np.GetInt64()}/{Str(p, "protocol") ?? "TCP"}")
                    : string.Create(CultureInfo.InvariantCulture, $"{Long(p, "port")}/{Str(p, "protocol") ?? "TCP"}")))
            : string.Empty;
        return Row(name, type, Str(spec, "clusterIP") ?? None, external, ports.Length == 0 ? None : ports, age, MapSelector(Prop(spec, "selector")));
    }

    private static JsonArray NodeCells(JsonElement o, string name, string age)
    {
        var status = Prop(o, "status");
        var ready = "Unknown";
        if (Prop(status, "conditions") is { ValueKind: JsonValueKind.Array } conditions)
        {
            foreach (var c in conditions.EnumerateArray())
            {
                if (Str(c, "type") == "Ready")
                {
                    ready = Str(c, "status") == "True" ? "Ready" : "NotReady";
                }
            }
        }

        if (Prop(Prop(o, "spec"), "unschedulable") is { ValueKind: JsonValueKind.True })
        {
            ready += ",SchedulingDisabled";
        }

        var roles = new List<string>();
        if (Prop(Prop(o, "metadata"), "labels") is { ValueKind: JsonValueKind.Object } labels)
        {
            foreach (var label in labels.EnumerateObject())
            {
                if (label.Name.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
                {
                    roles.Add(label.Name["node-role.kubernetes.io/".Length..]);
                }
                else if (label.Name == "kubernetes.io/role")
                {
                    roles.Add(label.Value.GetString() ?? string.Empty);
                }
            }
        }

        var info = Prop(status, "nodeInfo");
        string Address(string type) => Prop(status, "addresses") is { ValueKind: JsonValueKind.Array } addresses
            ? addresses.EnumerateArray().Where(a => Str(a, "type") == type).Select(a => Str(a, "address")).FirstOrDefault() ?? None
            : None;
        return Row(name, ready, roles.Count > 0 ? string.Join(",", roles.Order(StringComparer.Ordinal)) : None, age, Str(info, "kubeletVersion") ?? string.Empty,
            Address("InternalIP"), Address("ExternalIP"), Str(info, "osImage") ?? "<unknown>", Str(info, "kernelVersion") ?? "<unknown>", Str(info, "containerRuntimeVersion") ?? "<unknown>");
    }

    private JsonArray EventCells(JsonElement o, string name, bool core)
    {
        var regarding = Prop(o, core ? "involvedObject" : "regarding");
        var now = timeProvider.GetUtcNow();
        var last = Time(o, core ? "lastTimestamp" : "deprecatedLastTimestamp") ?? Time(Prop(o, "series"), "lastObservedTime") ?? Time(o, "eventTime") ?? Time(Prop(o, "metadata"), "creationTimestamp");
        var first = Time(o, core ? "firstTimestamp" : "deprecatedFirstTimestamp") ?? Time(o, "eventTime") ?? Time(Prop(o, "metadata"), "creationTimestamp");
        var source = core ? Prop(o, "source") : default;
        var sourceText = core ? Str(source, "component") ?? Str(o, "reportingComponent") ?? string.Empty : Str(o, "reportingController") ?? string.Empty;
        if (core && Str(source, "host") is { Length: > 0 } host)
        {
            sourceText += ", " + host;
        }

        var count = core ? Long(o, "count") : Long(Prop(o, "series"), "count");
        return Row(
            last is { } l ? HumanDuration.Format(now - l) : "<unknown>",
            Str(o, "type") ?? string.Empty,
            Str(o, "reason") ?? string.Empty,
            $"{(Str(regarding, "kind") ?? string.Empty).ToLowerInvariant()}/{Str(regarding, "name")}",
            Str(regarding, "fieldPath") ?? string.Empty,
            sourceText,
            (core ? Str(o, "message") : Str(o, "note")) ?? string.Empty,
            first is { } f ? HumanDuration.Format(now - f) : "<unknown>",
            count == 0 ? 1 : count,
            name);
    }

    private static string Endpoints(JsonElement o)
    {
        var list = new List<string>();
        if (Prop(o, "subsets") is { ValueKind: JsonValueKind.Array } subsets)
        {
            foreach (var subset in subsets.EnumerateArray())
            {
                var ports = Prop(subset, "ports") is { ValueKind: JsonValueKind.Array } p ? p.EnumerateArray().Select(x => Long(x, "port")).ToList() : [];
                if (Prop(subset, "addresses") is { ValueKind: JsonValueKind.Array } addresses)
                {
                    foreach (var address in addresses.EnumerateArray())
                    {
                        var ip = Str(address, "ip");
                        list.AddRange(ports.Count == 0 ? [ip ?? string.Empty] : ports.Select(port => string.Create(CultureInfo.InvariantCulture, $"{ip}:{port}")));
                    }
                }
            }
        }

        if (list.Count == 0)
        {
            return None;
        }

        return list.Count > 3 ? string.Join(",", list.Take(3)) + string.Create(CultureInfo.InvariantCulture, $" + {list.Count - 3} more...") : string.Join(",", list);
    }

    private string Age(JsonElement o) => Time(Prop(o, "metadata"), "creationTimestamp") is { } created ? HumanDuration.Format(timeProvider.GetUtcNow() - created) : "<unknown>";

    private static string Containers(JsonElement o, bool names)
    {
        var spec = Prop(Prop(Prop(o, "spec"), "template"), "spec");
        return Prop(spec, "containers") is { ValueKind: JsonValueKind.Array } containers
            ? string.Join(",", containers.EnumerateArray().Select(c => Str(c, names ? "name" : "image")))
            : string.Empty;
    }

    private static string Selector(JsonElement selector)
    {
        if (selector.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var parts = new List<string>();
        if (Prop(selector, "matchLabels") is { ValueKind: JsonValueKind.Object } labels)
        {
            parts.AddRange(labels.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetString()}"));
        }

        if (Prop(selector, "matchExpressions") is { ValueKind: JsonValueKind.Array } expressions)
        {
            foreach (var e in expressions.EnumerateArray())
            {
                var key = Str(e, "key");
                var values = Prop(e, "values") is { ValueKind: JsonValueKind.Array } v ? string.Join(",", v.EnumerateArray().Select(x => x.GetString())) : string.Empty;
                parts.Add(Str(e, "operator") switch
                {
                    "In" => $"{key} in ({values})",
                    "NotIn" => $"{key} notin ({values})",
                    "Exists" => key!,
                    "DoesNotExist" => $"!{key}",
                    _ => string.Empty,
                });
            }
        }

        return parts.Count == 0 ? None : string.Join(",", parts);
    }

    private static string MapSelector(JsonElement map) => map.ValueKind == JsonValueKind.Object && map.EnumerateObject().Any()
        ? string.Join(",", map.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetString()}"))
        : None;

    private static bool IsConditionTrue(JsonElement status, string? type) =>
        Prop(status, "conditions") is { ValueKind: JsonValueKind.Array } conditions &&
        conditions.EnumerateArray().Any(c => Str(c, "type") == type && Str(c, "status") == "True");

    private static int Count(JsonElement o, string field) => Prop(o, field) is { ValueKind: JsonValueKind.Object } map ? map.EnumerateObject().Count() : 0;

    private static JsonElement Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    private static string? Str(JsonElement e, string name) => Prop(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static string? Str(JsonElement e, string a, string b) => Str(Prop(e, a), b);

    private static long Long(JsonElement e, string name) => Prop(e, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n : 0;

    private static long Int(JsonElement e, string name) => Long(e, name);

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static JsonArray Row(params object[] cells)
    {
        var row = new JsonArray();
        foreach (var cell in cells)
        {
            row.Add(cell switch
            {
                string s => JsonValue.Create(s),
                long l => JsonValue.Create(l),
                int i => JsonValue.Create(i),
                _ => JsonValue.Create(cell.ToString()),
            });
        }

        return row;
    }
}
