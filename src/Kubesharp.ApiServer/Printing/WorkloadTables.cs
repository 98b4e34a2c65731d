using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Tables of workload kinds: apps, batch, autoscaling and policy.</summary>
internal static class WorkloadTables
{
    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        tables["deployments.apps"] = new TableBuilder()
            .Name()
            .Column("Ready", "Ready replicas of those asked for.", o => Invariant($"{o.Status.Int("readyReplicas")}/{o.Spec.Int("replicas")}"))
            .Column("Up-to-date", "Replicas on the current template.", o => o.Status.Int("updatedReplicas"))
            .Column("Available", "Replicas available.", o => o.Status.Int("availableReplicas"))
            .Age()
            .Wide("Containers", "Container names of the template.", o => TemplateContainers(o, images: false))
            .Wide("Images", "Container images of the template.", o => TemplateContainers(o, images: true))
            .Wide("Selector", "Label selector of the pods.", o => LabelSelector(o.Spec.Field("selector")))
            .Build();

        tables["replicasets.apps"] = new TableBuilder()
            .Name()
            .Column("Desired", "Replicas asked for.", o => o.Spec.Int("replicas"), "integer")
            .Column("Current", "Replicas running.", o => o.Status.Int("replicas"), "integer")
            .Column("Ready", "Replicas ready.", o => o.Status.Int("readyReplicas"), "integer")
            .Age()
            .Wide("Containers", "Container names of the template.", o => TemplateContainers(o, images: false))
            .Wide("Images", "Container images of the template.", o => TemplateContainers(o, images: true))
            .Wide("Selector", "Label selector of the pods.", o => LabelSelector(o.Spec.Field("selector")))
            .Build();

        tables["statefulsets.apps"] = new TableBuilder()
            .Name()
            .Column("Ready", "Ready replicas of those asked for.", o => Invariant($"{o.Status.Int("readyReplicas")}/{o.Spec.Int("replicas")}"))
            .Age()
            .Wide("Containers", "Container names of the template.", o => TemplateContainers(o, images: false))
            .Wide("Images", "Container images of the template.", o => TemplateContainers(o, images: true))
            .Build();

        tables["daemonsets.apps"] = new TableBuilder()
            .Name()
            .Column("Desired", "Nodes that should run the pod.", o => o.Status.Int("desiredNumberScheduled"), "integer")
            .Column("Current", "Nodes running the pod.", o => o.Status.Int("currentNumberScheduled"), "integer")
            .Column("Ready", "Nodes with the pod ready.", o => o.Status.Int("numberReady"), "integer")
            .Column("Up-to-date", "Nodes running the current template.", o => o.Status.Int("updatedNumberScheduled"), "integer")
            .Column("Available", "Nodes with the pod available.", o => o.Status.Int("numberAvailable"), "integer")
            .Column("Node Selector", "Node selector of the template.", o => Labels(o.Spec.Field("template", "spec", "nodeSelector")))
            .Age()
            .Wide("Containers", "Container names of the template.", o => TemplateContainers(o, images: false))
            .Wide("Images", "Container images of the template.", o => TemplateContainers(o, images: true))
            .Wide("Selector", "Label selector of the pods.", o => LabelSelector(o.Spec.Field("selector")))
            .Build();

        tables["controllerrevisions.apps"] = new TableBuilder()
            .Name()
            .Column("Controller", "The controller owning the revision.", RevisionController)
            .Column("Revision", "Revision number.", o => o.Root.Int("revision"))
            .Age()
            .Build();

        tables["jobs.batch"] = new TableBuilder()
            .Name()
            .Column("Status", "Complete, Failed, Terminating, Suspended, FailureTarget or Running.", JobStatus)
            .Column("Completions", "Succeeded pods of those needed.", JobCompletions)
            .Column("Duration", "Time the job ran (until now while it runs).", JobDuration)
            .Age()
            .Wide("Containers", "Container names of the template.", o => TemplateContainers(o, images: false))
            .Wide("Images", "Container images of the template.", o => TemplateContainers(o, images: true))
            .Wide("Selector", "Label selector of the pods.", o => LabelSelector(o.Spec.Field("selector")))
            .Build();

        tables["cronjobs.batch"] = new TableBuilder()
            .Name()
            .Column("Schedule", "Cron schedule.", o => o.Spec.Text("schedule") ?? string.Empty)
            .Column("Timezone", "Time zone the schedule is read in.", o => o.Spec.Text("timeZone") ?? None)
            .Column("Suspend", "Whether new jobs are held back.", o => Bool(o.Spec.Flag("suspend")), "boolean")
            .Column("Active", "Jobs running.", o => o.Status.Length("active"), "integer")
            .Column("Last Schedule", "Time since a job was last scheduled.", o => o.Status.Time("lastScheduleTime") is { } at ? o.Since(at) : None)
            .Age()
            .Wide("Containers", "Container names of the job template.", o => Containers(o.Spec.Field("jobTemplate", "spec", "template").Field("spec"), images: false))
            .Wide("Images", "Container images of the job template.", o => Containers(o.Spec.Field("jobTemplate", "spec", "template").Field("spec"), images: true))
            .Wide("Selector", "Label selector of the job template.", o => LabelSelector(o.Spec.Field("jobTemplate", "spec", "selector")))
            .Build();

        tables["horizontalpodautoscalers.autoscaling"] = new TableBuilder()
            .Name()
            .Column("Reference", "The scaled object (kind/name).", o => o.Spec.Field("scaleTargetRef").Text("kind") + "/" + o.Spec.Field("scaleTargetRef").Text("name"))
            .Column("Targets", "Current and target value of each metric.", AutoscalerTargets)
            .Column("MinPods", "Lower replica limit.", o => o.Spec.Number("minReplicas") is { } min ? Invariant($"{min}") : Unset)
            .Column("MaxPods", "Upper replica limit.", o => o.Spec.Int("maxReplicas"))
            .Column("Replicas", "Replicas seen by the autoscaler.", o => o.Status.Int("currentReplicas"))
            .Age()
            .Build();

        tables["poddisruptionbudgets.policy"] = new TableBuilder()
            .Name()
            .Column("Min Available", "Pods that must stay available.", o => IntOrString(o.Spec.Field("minAvailable")))
            .Column("Max Unavailable", "Pods that may be unavailable.", o => IntOrString(o.Spec.Field("maxUnavailable")))
            .Column("Allowed Disruptions", "Pods that may be disrupted now.", o => o.Status.Int("disruptionsAllowed"), "integer")
            .Age()
            .Build();
    }

    private static string TemplateContainers(PrintedObject o, bool images) => Containers(o.Spec.Field("template", "spec"), images);

    private static string IntOrString(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.String => value.GetString()!,
        _ => "N/A",
    };

    private static JsonNode RevisionController(PrintedObject o)
    {
        foreach (var owner in o.Metadata.Items("ownerReferences"))
        {
            if (owner.Flag("controller") != true)
            {
                continue;
            }

            var apiVersion = owner.Text("apiVersion") ?? string.Empty;
            var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
            var group = slash > 0 ? apiVersion[..slash] : string.Empty;
            var kind = owner.Text("kind") ?? string.Empty;
            if (kind.Length == 0)
            {
                return owner.Text("name") ?? string.Empty;
            }

            return (group.Length > 0 ? kind + "." + group : kind).ToLowerInvariant() + "/" + owner.Text("name");
        }

        return None;
    }

    private static JsonNode JobStatus(PrintedObject o)
    {
        var status = o.Status;
        return status.IsConditionTrue("Complete") ? "Complete"
            : status.IsConditionTrue("Failed") ? "Failed"
            : o.IsDeleting ? "Terminating"
            : status.IsConditionTrue("Suspended") ? "Suspended"
            : status.IsConditionTrue("FailureTarget") ? "FailureTarget"
            : "Running";
    }

    private static JsonNode JobCompletions(PrintedObject o)
    {
        var succeeded = o.Status.Int("succeeded");
        if (o.Spec.Number("completions") is { } completions)
        {
            return Invariant($"{succeeded}/{completions}");
        }

        var parallelism = o.Spec.Int("parallelism");
        return parallelism > 1 ? Invariant($"{succeeded}/1 of {parallelism}") : Invariant($"{succeeded}/1");
    }

    private static JsonNode JobDuration(PrintedObject o)
    {
        if (o.Status.Time("startTime") is not { } start)
        {
            return string.Empty;
        }

        return HumanDuration.Format((o.Status.Time("completionTime") ?? o.Now) - start);
    }

    /// <summary>Each metric as current/target (resource metrics prefixed with the resource name), two at most.</summary>
    private static JsonNode AutoscalerTargets(PrintedObject o)
    {
        var specs = o.Spec.Items("metrics").ToList();
        var statuses = o.Status.Items("currentMetrics").ToList();
        if (specs.Count == 0 && o.Spec.Number("targetCPUUtilizationPercentage") is { } cpuTarget)
        {
            // autoscaling/v1 keeps its one CPU target outside spec.metrics.
            var current = o.Status.Number("currentCPUUtilizationPercentage") is { } c ? Invariant($"{c}%") : Unknown;
            return Invariant($"cpu: {current}/{cpuTarget}%");
        }

        if (specs.Count == 0)
        {
            return None;
        }

        var list = new List<string>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var status = i < statuses.Count ? statuses[i] : default;
            list.Add(spec.Text("type") switch
            {
                "Resource" => ResourceTarget(spec.Field("resource"), status.Field("resource")),
                "ContainerResource" => ResourceTarget(spec.Field("containerResource"), status.Field("containerResource")),
                "Pods" => $"{CurrentOr(status.Field("pods", "current"), "averageValue")}/{Quantity(spec.Field("pods", "target").Field("averageValue"))}",
                "Object" => ValueTarget(spec.Field("object", "target"), status.Field("object", "current")),
                "External" => ValueTarget(spec.Field("external", "target"), status.Field("external", "current")),
                _ => "<unknown type>",
            });
        }

        return list.Count > 2 ? string.Join(", ", list.Take(2)) + Invariant($" + {list.Count - 2} more...") : string.Join(", ", list);
    }

    private static string ResourceTarget(JsonElement spec, JsonElement status)
    {
        var name = spec.Text("name") ?? string.Empty;
        var target = spec.Field("target");
        if (target.Field("averageValue").ValueKind != JsonValueKind.Undefined)
        {
            return $"{name}: {CurrentOr(status.Field("current"), "averageValue")}/{Quantity(target.Field("averageValue"))}";
        }

        var current = status.Field("current").Number("averageUtilization") is { } u ? Invariant($"{u}%") : Unknown;
        var wanted = target.Number("averageUtilization") is { } t ? Invariant($"{t}%") : "<auto>";
        return $"{name}: {current}/{wanted}";
    }

    private static string ValueTarget(JsonElement target, JsonElement current) =>
        target.Field("averageValue").ValueKind != JsonValueKind.Undefined
            ? $"{CurrentOr(current, "averageValue")}/{Quantity(target.Field("averageValue"))} (avg)"
            : $"{CurrentOr(current, "value")}/{Quantity(target.Field("value"))}";

    private static string CurrentOr(JsonElement current, string field) =>
        current.Field(field).ValueKind == JsonValueKind.Undefined ? Unknown : Quantity(current.Field(field));
}
