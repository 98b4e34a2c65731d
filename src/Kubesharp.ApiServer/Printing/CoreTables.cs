using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Tables of the core group (v1) apart from storage: pods, services, nodes, namespaces, config, events, quotas.</summary>
internal static class CoreTables
{
    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        tables["pods"] = new ResourceTable(
            [
                ResourceTable.NameColumn, Column("Ready", "Ready containers of all containers."), Column("Status", "The pod's phase or the reason it is not running."),
                Column("Restarts", "Container restarts, with the time since the last one."), Column("Age", "Time since the object was created."),
                Column("IP", "The pod's IP address.", 1), Column("Node", "The node the pod runs on.", 1),
                Column("Nominated Node", "The node preemption nominated for the pod.", 1), Column("Readiness Gates", "Readiness gates met of all gates.", 1),
            ],
            PodRow);

        tables["podtemplates"] = new TableBuilder()
            .Name()
            .Column("Containers", "Container names of the template.", o => Containers(o.Root.Field("template", "spec"), images: false))
            .Column("Images", "Container images of the template.", o => Containers(o.Root.Field("template", "spec"), images: true))
            .Column("Pod Labels", "Labels of the template's pods.", o => Labels(o.Root.Field("template", "metadata", "labels")))
            .Build();

        tables["replicationcontrollers"] = new TableBuilder()
            .Name()
            .Column("Desired", "Replicas asked for.", o => o.Spec.Int("replicas"), "integer")
            .Column("Current", "Replicas running.", o => o.Status.Int("replicas"), "integer")
            .Column("Ready", "Replicas ready.", o => o.Status.Int("readyReplicas"), "integer")
            .Age()
            .Wide("Containers", "Container names of the template.", o => Containers(o.Spec.Field("template", "spec"), images: false))
            .Wide("Images", "Container images of the template.", o => Containers(o.Spec.Field("template", "spec"), images: true))
            .Wide("Selector", "Label selector of the pods.", o => Labels(o.Spec.Field("selector")))
            .Build();

        tables["services"] = new TableBuilder()
            .Name()
            .Column("Type", "How the service is exposed.", o => o.Spec.Text("type") ?? string.Empty)
            .Column("Cluster-IP", "The service's cluster IP.", o => o.Spec.Items("clusterIPs").Select(ip => ip.GetString()).FirstOrDefault() ?? None)
            .Column("External-IP", "Addresses the service is reachable at from outside.", ExternalIp)
            .Column("Port(s)", "Service ports (port[:nodePort]/protocol).", ServicePorts)
            .Age()
            .Wide("Selector", "Label selector of the backing pods.", o => Labels(o.Spec.Field("selector")))
            .Build();

        tables["endpoints"] = new TableBuilder()
            .Name()
            .Column("Endpoints", "Ready addresses with their ports.", o => Endpoints(o.Root))
            .Age()
            .Build();

        tables["nodes"] = new TableBuilder()
            .Name()
            .Column("Status", "Readiness, and whether scheduling is disabled.", NodeStatus)
            .Column("Roles", "Roles from node-role.kubernetes.io labels.", NodeRoles)
            .Age()
            .Column("Version", "Kubelet version.", o => o.Status.Field("nodeInfo").Text("kubeletVersion") ?? string.Empty)
            .Wide("Internal-IP", "First internal address.", o => NodeAddress(o, "InternalIP"))
            .Wide("External-IP", "First external address.", o => NodeAddress(o, "ExternalIP"))
            .Wide("OS-Image", "Operating system.", o => NonEmpty(o.Status.Field("nodeInfo").Text("osImage")))
            .Wide("Kernel-Version", "Kernel version.", o => NonEmpty(o.Status.Field("nodeInfo").Text("kernelVersion")))
            .Wide("Container-Runtime", "Container runtime and its version.", o => NonEmpty(o.Status.Field("nodeInfo").Text("containerRuntimeVersion")))
            .Build();

        tables["namespaces"] = new TableBuilder()
            .Name()
            .Column("Status", "Phase of the namespace.", o => o.Status.Text("phase") ?? string.Empty)
            .Age()
            .Build();

        tables["secrets"] = new TableBuilder()
            .Name()
            .Column("Type", "Secret type.", o => o.Root.Text("type") ?? string.Empty)
            .Column("Data", "Number of data entries.", o => o.Root.Entries("data"), "integer")
            .Age()
            .Build();

        tables["configmaps"] = new TableBuilder()
            .Name()
            .Column("Data", "Number of data and binary data entries.", o => o.Root.Entries("data") + o.Root.Entries("binaryData"), "integer")
            .Age()
            .Build();

        tables["serviceaccounts"] = new TableBuilder()
            .Name()
            .Column("Secrets", "Number of secrets listed.", o => o.Root.Length("secrets"), "integer")
            .Age()
            .Build();

        tables["componentstatuses"] = new TableBuilder()
            .Name()
            .Column("Status", "Healthy, Unhealthy or Unknown.", o => ComponentHealth(o.Root).Status)
            .Column("Message", "Message of the Healthy condition.", o => ComponentHealth(o.Root).Message)
            .Column("Error", "Error of the Healthy condition.", o => ComponentHealth(o.Root).Error)
            .Build();

        tables["resourcequotas"] = new TableBuilder()
            .Name()
            .Age()
            .Column("Request", "Used of hard for each request and count limit.", o => QuotaUsage(o.Status, limits: false))
            .Column("Limit", "Used of hard for each limits.* resource.", o => QuotaUsage(o.Status, limits: true))
            .Build();

        var events = new ResourceTable(
            [
                Column("Last Seen", "Time since the event was last seen."), Column("Type", "Normal or Warning."), Column("Reason", "Why the event happened."),
                Column("Object", "The object the event is about."), Column("Subobject", "The part of the object the event is about.", 1),
                Column("Source", "The component that reported the event.", 1), Column("Message", "What happened."),
                Column("First Seen", "Time since the event was first seen.", 1), Column("Count", "How often the event happened.", 1, "integer"),
                new TableColumn("Name", "string", "name", "Name of the event.", 1),
            ],
            o => EventRow(o, core: true));
        tables["events"] = events;
        tables["events.events.k8s.io"] = new ResourceTable(events.Columns, o => EventRow(o, core: false));
    }

    private static TableColumn Column(string name, string description, int priority = 0, string type = "string") => new(name, type, string.Empty, description, priority);

    private static string NonEmpty(string? text) => string.IsNullOrEmpty(text) ? Unknown : text;

    private static JsonArray PodRow(PrintedObject o)
    {
        var spec = o.Spec;
        var status = o.Status;
        var total = spec.Length("containers");
        var ready = 0;
        var restarts = 0L;
        DateTimeOffset? lastRestart = null;
        var reason = status.Text("reason") ?? status.Text("phase") ?? "Pending";
        if (status.Condition("PodScheduled").Text("reason") == "SchedulingGated")
        {
            reason = "SchedulingGated";
        }

        var initializing = false;
        var initTotal = spec.Length("initContainers");
        var index = 0;
        foreach (var cs in status.Items("initContainerStatuses"))
        {
            restarts += cs.Int("restartCount");
            var state = cs.Field("state");
            if (state.Field("terminated") is { ValueKind: JsonValueKind.Object } t && t.Int("exitCode") == 0)
            {
                index++;
                continue;
            }

            initializing = true;
            if (state.Field("terminated") is { ValueKind: JsonValueKind.Object } failed)
            {
                reason = failed.Text("reason") is { Length: > 0 } r ? "Init:" + r
                    : failed.Int("signal") != 0 ? Invariant($"Init:Signal:{failed.Int("signal")}")
                    : Invariant($"Init:ExitCode:{failed.Int("exitCode")}");
            }
            else if (state.Field("waiting").Text("reason") is { Length: > 0 } wr && wr != "PodInitializing")
            {
                reason = "Init:" + wr;
            }
            else
            {
                reason = Invariant($"Init:{index}/{initTotal}");
            }

            break;
        }

        if (!initializing)
        {
            var hasRunning = false;
            foreach (var cs in status.Items("containerStatuses").Reverse())
            {
                restarts += cs.Int("restartCount");
                if (cs.Field("lastState", "terminated").Time("finishedAt") is { } finished && (lastRestart is null || finished > lastRestart))
                {
                    lastRestart = finished;
                }

                var state = cs.Field("state");
                if (state.Field("waiting").Text("reason") is { Length: > 0 } wr)
                {
                    reason = wr;
                }
                else if (state.Field("terminated") is { ValueKind: JsonValueKind.Object } t)
                {
                    reason = t.Text("reason") is { Length: > 0 } r ? r
                        : t.Int("signal") != 0 ? Invariant($"Signal:{t.Int("signal")}")
                        : Invariant($"ExitCode:{t.Int("exitCode")}");
                }
                else if (state.Field("running").ValueKind == JsonValueKind.Object)
                {
                    hasRunning = true;
                    if (cs.Flag("ready") == true)
                    {
                        ready++;
                    }
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                reason = status.IsConditionTrue("Ready") ? "Running" : "NotReady";
            }
        }

        var phase = status.Text("phase");
        if (o.IsDeleting && status.Text("reason") == "NodeLost")
        {
            reason = "Unknown";
        }
        else if (o.IsDeleting && phase is not ("Succeeded" or "Failed"))
        {
            reason = "Terminating";
        }

        var restartText = restarts.ToString(CultureInfo.InvariantCulture);
        if (restarts != 0 && lastRestart is { } last)
        {
            restartText += $" ({o.Since(last)} ago)";
        }

        var gates = spec.Length("readinessGates") is > 0 and var gateCount
            ? Invariant($"{spec.Items("readinessGates").Count(g => status.IsConditionTrue(g.Text("conditionType") ?? string.Empty))}/{gateCount}")
            : None;
        // The JsonNode constructor, not a collection expression: that would add each string through the generic Add<T>.
        return new JsonArray(
            o.Name, Invariant($"{ready}/{total}"), reason, restartText, o.Age,
            status.Items("podIPs").Select(ip => ip.Text("ip")).FirstOrDefault(ip => !string.IsNullOrEmpty(ip)) ?? status.Text("podIP") ?? None,
            spec.Text("nodeName") is { Length: > 0 } node ? node : None,
            status.Text("nominatedNodeName") is { Length: > 0 } nominated ? nominated : None,
            gates);
    }

    private static JsonNode ExternalIp(PrintedObject o)
    {
        var spec = o.Spec;
        var externalIps = spec.Items("externalIPs").Select(ip => ip.GetString() ?? string.Empty).ToList();
        switch (spec.Text("type"))
        {
            case "ClusterIP" or "NodePort":
                return externalIps.Count > 0 ? string.Join(",", externalIps) : None;
            case "LoadBalancer":
                var balancer = o.Status.Field("loadBalancer").Items("ingress")
                    .Select(i => i.Text("ip") is { Length: > 0 } ip ? ip : i.Text("hostname"))
                    .OfType<string>().Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
                var all = balancer.Concat(externalIps).ToList();
                return all.Count > 0 ? string.Join(",", all) : "<pending>";
            case "ExternalName":
                return spec.Text("externalName") ?? string.Empty;
            default:
                return Unknown;
        }
    }

    private static JsonNode ServicePorts(PrintedObject o)
    {
        var ports = o.Spec.Items("ports")
            .Select(p => p.Int("nodePort") > 0
                ? Invariant($"{p.Int("port")}:{p.Int("nodePort")}/{p.Text("protocol")}")
                : Invariant($"{p.Int("port")}/{p.Text("protocol")}"))
            .ToList();
        return ports.Count == 0 ? None : string.Join(",", ports);
    }

    private static string Endpoints(JsonElement o)
    {
        const int max = 3;
        var list = new List<string>();
        var count = 0;
        foreach (var subset in o.Items("subsets"))
        {
            var addresses = subset.Items("addresses").Select(a => a.Text("ip") ?? string.Empty).ToList();
            if (subset.Length("ports") == 0)
            {
                count += addresses.Count;
                list.AddRange(addresses.Take(max - list.Count));
                continue;
            }

            foreach (var port in subset.Items("ports"))
            {
                count += addresses.Count;
                foreach (var ip in addresses.Take(max - list.Count))
                {
                    list.Add(ip.Contains(':', StringComparison.Ordinal) ? Invariant($"[{ip}]:{port.Int("port")}") : Invariant($"{ip}:{port.Int("port")}"));
                }
            }
        }

        if (count == 0)
        {
            return None;
        }

        return count > list.Count ? string.Join(",", list) + Invariant($" + {count - max} more...") : string.Join(",", list);
    }

    private static JsonNode NodeStatus(PrintedObject o)
    {
        var ready = o.Status.Condition("Ready");
        var text = ready.ValueKind != JsonValueKind.Object ? "Unknown" : ready.Text("status") == "True" ? "Ready" : "NotReady";
        return o.Spec.Flag("unschedulable") == true ? text + ",SchedulingDisabled" : text;
    }

    private static JsonNode NodeRoles(PrintedObject o)
    {
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        if (o.Metadata.Field("labels") is { ValueKind: JsonValueKind.Object } labels)
        {
            foreach (var label in labels.EnumerateObject())
            {
                if (label.Name.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal) && label.Name.Length > "node-role.kubernetes.io/".Length)
                {
                    roles.Add(label.Name["node-role.kubernetes.io/".Length..]);
                }
                else if (label.Name == "kubernetes.io/role" && label.Value.GetString() is { Length: > 0 } role)
                {
                    roles.Add(role);
                }
            }
        }

        return roles.Count > 0 ? string.Join(",", roles) : None;
    }

    private static JsonNode NodeAddress(PrintedObject o, string type) =>
        o.Status.Items("addresses").Where(a => a.Text("type") == type).Select(a => a.Text("address")).FirstOrDefault() ?? None;

    private static (string Status, string Message, string Error) ComponentHealth(JsonElement o)
    {
        foreach (var c in o.Items("conditions"))
        {
            if (c.Text("type") == "Healthy")
            {
                return (c.Text("status") == "True" ? "Healthy" : "Unhealthy", c.Text("message") ?? string.Empty, c.Text("error") ?? string.Empty);
            }
        }

        return ("Unknown", string.Empty, string.Empty);
    }

    private static string QuotaUsage(JsonElement status, bool limits)
    {
        if (status.Field("hard") is not { ValueKind: JsonValueKind.Object } hard)
        {
            return string.Empty;
        }

        var used = status.Field("used");
        var parts = new List<(string Name, string Text)>();
        foreach (var resource in hard.EnumerateObject())
        {
            var dot = resource.Name.IndexOf('.', StringComparison.Ordinal);
            if ((dot > 0 && resource.Name[..dot] == "limits") != limits)
            {
                continue;
            }

            parts.Add((resource.Name, $"{resource.Name}: {Quantity(used.Field(resource.Name))}/{Quantity(resource.Value)}"));
        }

        return string.Join(", ", parts.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Text));
    }

    private static JsonArray EventRow(PrintedObject o, bool core)
    {
        var e = o.Root;
        var regarding = e.Field(core ? "involvedObject" : "regarding");
        var first = e.Time(core ? "firstTimestamp" : "deprecatedFirstTimestamp") is { } f ? o.Since(f) : o.Since(e.Time("eventTime"));
        var last = e.Time(core ? "lastTimestamp" : "deprecatedLastTimestamp") is { } l ? o.Since(l) : first;
        var count = e.Int(core ? "count" : "deprecatedCount");
        if (e.Field("series").ValueKind == JsonValueKind.Object)
        {
            last = o.Since(e.Field("series").Time("lastObservedTime"));
            count = e.Field("series").Int("count");
        }
        else if (count == 0)
        {
            count = 1;
        }

        var kind = (regarding.Text("kind") ?? string.Empty).ToLowerInvariant();
        var target = regarding.Text("name") is { Length: > 0 } name ? kind + "/" + name : kind;
        var component = core ? e.Field("source").Text("component") : e.Field("deprecatedSource").Text("component");
        var host = core ? e.Field("source").Text("host") : e.Field("deprecatedSource").Text("host");
        component = string.IsNullOrEmpty(component) ? e.Text("reportingController") ?? e.Text("reportingComponent") ?? string.Empty : component;
        host = string.IsNullOrEmpty(host) ? e.Text("reportingInstance") ?? string.Empty : host;
        var source = host.Length == 0 ? component : component + ", " + host;
        return new JsonArray(
            last, e.Text("type") ?? string.Empty, e.Text("reason") ?? string.Empty, target, regarding.Text("fieldPath") ?? string.Empty, source,
            ((core ? e.Text("message") : e.Text("note")) ?? string.Empty).Trim(), first, count, o.Name);
    }
}
