using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Tables of who may do what: RBAC bindings, certificate signing requests, admission configuration.</summary>
internal static class AccessTables
{
    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        // Roles and cluster roles have no printer upstream: they print the default Name and Created At.
        var bindings = new TableBuilder()
            .Name()
            .Column("Role", "The bound role (kind/name).", o => o.Root.Field("roleRef").Text("kind") + "/" + o.Root.Field("roleRef").Text("name"))
            .Age()
            .Wide("Users", "Users bound.", o => Subjects(o, "User"))
            .Wide("Groups", "Groups bound.", o => Subjects(o, "Group"))
            .Wide("ServiceAccounts", "Service accounts bound (namespace/name).", o => Subjects(o, "ServiceAccount"))
            .Build();
        tables["rolebindings.rbac.authorization.k8s.io"] = bindings;
        tables["clusterrolebindings.rbac.authorization.k8s.io"] = bindings;

        tables["certificatesigningrequests.certificates.k8s.io"] = new TableBuilder()
            .Name()
            .Age()
            .Column("SignerName", "The signer asked to sign.", o => o.Spec.Text("signerName") is { Length: > 0 } signer ? signer : None)
            .Column("Requestor", "The user who made the request.", o => o.Spec.Text("username") ?? string.Empty)
            .Column("RequestedDuration", "The validity asked for.", o => o.Spec.Number("expirationSeconds") is { } seconds
                ? HumanDuration.Format(TimeSpan.FromSeconds(seconds))
                : None)
            .Column("Condition", "Approved, Denied or Pending; Failed and Issued when so.", SigningCondition)
            .Build();

        var webhooks = new TableBuilder()
            .Name()
            .Column("Webhooks", "Webhooks in the configuration.", o => o.Root.Length("webhooks"), "integer")
            .Age()
            .Build();
        tables["mutatingwebhookconfigurations.admissionregistration.k8s.io"] = webhooks;
        tables["validatingwebhookconfigurations.admissionregistration.k8s.io"] = webhooks;

        tables["validatingadmissionpolicies.admissionregistration.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Validations", "Validation rules of the policy.", o => o.Spec.Length("validations"), "integer")
            .Column("ParamKind", "Kind of the policy's parameters.", ParamKind)
            .Age()
            .Build();
        tables["mutatingadmissionpolicies.admissionregistration.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Mutations", "Mutations of the policy.", o => o.Spec.Length("mutations"), "integer")
            .Column("ParamKind", "Kind of the policy's parameters.", ParamKind)
            .Age()
            .Build();

        var policyBindings = new TableBuilder()
            .Name()
            .Column("PolicyName", "The bound policy.", o => o.Spec.Text("policyName") ?? string.Empty)
            .Column("ParamRef", "The parameters the binding gives the policy.", ParamRef)
            .Age()
            .Build();
        tables["validatingadmissionpolicybindings.admissionregistration.k8s.io"] = policyBindings;
        tables["mutatingadmissionpolicybindings.admissionregistration.k8s.io"] = policyBindings;
    }

    private static JsonNode Subjects(PrintedObject o, string kind) =>
        string.Join(", ", o.Root.Items("subjects")
            .Where(s => s.Text("kind") == kind)
            .Select(s => kind == "ServiceAccount" ? s.Text("namespace") + "/" + s.Text("name") : s.Text("name")));

    private static JsonNode SigningCondition(PrintedObject o)
    {
        bool approved = false, denied = false, failed = false;
        foreach (var c in o.Status.Items("conditions"))
        {
            switch (c.Text("type"))
            {
                case "Approved":
                    approved = true;
                    break;
                case "Denied":
                    denied = true;
                    break;
                case "Failed":
                    failed = true;
                    break;
            }
        }

        var text = denied ? "Denied" : approved ? "Approved" : "Pending";
        if (failed)
        {
            text += ",Failed";
        }

        if (!string.IsNullOrEmpty(o.Status.Text("certificate")))
        {
            text += ",Issued";
        }

        return text;
    }

    private static JsonNode ParamKind(PrintedObject o)
    {
        var kind = o.Spec.Field("paramKind");
        return kind.ValueKind == JsonValueKind.Object ? kind.Text("apiVersion") + "/" + kind.Text("kind") : Unset;
    }

    private static JsonNode ParamRef(PrintedObject o)
    {
        var reference = o.Spec.Field("paramRef");
        if (reference.ValueKind != JsonValueKind.Object)
        {
            return Unset;
        }

        if (reference.Text("name") is { Length: > 0 } name)
        {
            // Without a namespace the parameter may be cluster-scoped or in the request's namespace: upstream writes */name.
            return (reference.Text("namespace") is { Length: > 0 } ns ? ns : "*") + "/" + name;
        }

        return reference.Field("selector").ValueKind == JsonValueKind.Object ? SelectorText(reference.Field("selector")) : Unset;
    }

    // A selector as labels.Selector prints it: an empty selector matches everything and prints as nothing.
    private static string SelectorText(JsonElement selector)
    {
        var text = LabelSelector(selector);
        return text == None ? string.Empty : text;
    }
}
