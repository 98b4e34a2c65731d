using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>
/// Tables of cluster machinery: leases, API priority and fairness, scheduling and node classes, dynamic resources and
/// API services. CustomResourceDefinitions have no printer upstream and print the default Name and Created At.
/// </summary>
internal static class ClusterTables
{
    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        tables["leases.coordination.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Holder", "Identity of the holder.", o => o.Spec.Text("holderIdentity") ?? string.Empty)
            .Age()
            .Build();

        tables["flowschemas.flowcontrol.apiserver.k8s.io"] = new TableBuilder()
            .Name()
            .Column("PriorityLevel", "Priority level of matching requests.", o => o.Spec.Field("priorityLevelConfiguration").Text("name") ?? string.Empty)
            .Column("MatchingPrecedence", "Lower is consulted first.", o => o.Spec.Int("matchingPrecedence"))
            .Column("DistinguisherMethod", "How flows are told apart.", o => o.Spec.Field("distinguisherMethod").Text("type") ?? None)
            .Age()
            .Column("MissingPL", "Whether the priority level is missing (the Dangling condition).", o => o.Status.Condition("Dangling").Text("status") ?? "?")
            .Build();

        tables["prioritylevelconfigurations.flowcontrol.apiserver.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Type", "Exempt or Limited.", o => o.Spec.Text("type") ?? string.Empty)
            .Column("NominalConcurrencyShares", "Share of the server's seats.", Shares)
            .Column("Queues", "Queues.", o => Queuing(o, "queues"))
            .Column("HandSize", "Queues dealt to each flow.", o => Queuing(o, "handSize"))
            .Column("QueueLengthLimit", "Requests each queue holds.", o => Queuing(o, "queueLengthLimit"))
            .Age()
            .Build();

        tables["priorityclasses.scheduling.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Value", "Priority of the class's pods.", o => o.Root.Int("value"), "integer")
            .Column("Global-Default", "Whether pods without a class get this one.", o => o.Root.Flag("globalDefault") ?? false, "boolean")
            .Age()
            .Column("PreemptionPolicy", "Whether the class's pods preempt others.", o => o.Root.Text("preemptionPolicy") ?? string.Empty)
            .Build();

        tables["runtimeclasses.node.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Handler", "The container runtime handler.", o => o.Root.Text("handler") ?? string.Empty)
            .Age()
            .Build();

        var nameAndAge = new TableBuilder().Name().Age().Build();
        tables["deviceclasses.resource.k8s.io"] = nameAndAge;
        tables["resourceclaimtemplates.resource.k8s.io"] = nameAndAge;
        tables["resourceclaims.resource.k8s.io"] = new TableBuilder()
            .Name()
            .Column("State", "Allocated, pending, reserved or deleted.", ClaimState)
            .Age()
            .Build();
        tables["resourceslices.resource.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Node", "The node the devices are on.", o => o.Spec.Text("nodeName") ?? string.Empty)
            .Column("Driver", "The driver of the devices.", o => o.Spec.Text("driver") ?? string.Empty)
            .Column("Pool", "The pool the slice belongs to.", o => o.Spec.Field("pool").Text("name") ?? string.Empty)
            .Age()
            .Build();

        tables["apiservices.apiregistration.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Service", "The service serving the API, or Local.", o => o.Spec.Field("service") is { ValueKind: JsonValueKind.Object } s
                ? s.Text("namespace") + "/" + s.Text("name")
                : "Local")
            .Column("Available", "The Available condition.", ApiServiceAvailable)
            .Age()
            .Build();
    }

    // Absent integers of a Limited level print as Go's zero; a level without the field's parent prints <none>.
    private static JsonNode Shares(PrintedObject o) =>
        o.Spec.Field("limited") is { ValueKind: JsonValueKind.Object } limited ? limited.Int("nominalConcurrencyShares") : None;

    private static JsonNode Queuing(PrintedObject o, string field) =>
        o.Spec.Field("limited", "limitResponse", "queuing") is { ValueKind: JsonValueKind.Object } queuing ? queuing.Int(field) : None;

    private static JsonNode ClaimState(PrintedObject o)
    {
        var states = new List<string>();
        if (o.IsDeleting)
        {
            states.Add("deleted");
        }

        if (o.Status.Field("allocation").ValueKind != JsonValueKind.Object)
        {
            if (!o.IsDeleting)
            {
                states.Add("pending");
            }
        }
        else
        {
            states.Add("allocated");
            if (o.Status.Length("reservedFor") > 0)
            {
                states.Add("reserved");
            }
        }

        return string.Join(",", states);
    }

    private static JsonNode ApiServiceAvailable(PrintedObject o)
    {
        var condition = o.Status.Condition("Available");
        if (condition.ValueKind != JsonValueKind.Object)
        {
            return "Unknown";
        }

        var status = condition.Text("status") ?? string.Empty;
        return status != "True" && condition.Text("reason") is { Length: > 0 } reason ? $"{status} ({reason})" : status;
    }
}
