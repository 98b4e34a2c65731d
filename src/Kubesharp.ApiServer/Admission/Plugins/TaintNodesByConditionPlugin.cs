using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's TaintNodesByCondition: a new node starts tainted not-ready (NoSchedule), so nothing is scheduled to
/// it before the node lifecycle controller has seen it Ready and taken the taint away.
/// </summary>
internal sealed class TaintNodesByConditionPlugin : IMutatingAdmissionPlugin
{
    private const string NotReady = "node.kubernetes.io/not-ready";

    public string Name => "TaintNodesByCondition";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation == AdmissionOperation.Create && attributes.Subresource.Length == 0 && attributes.Resource.GroupResource == "nodes";

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Object is not { } node)
        {
            return ValueTask.CompletedTask;
        }

        if (node["spec"] is not JsonObject spec)
        {
            node["spec"] = spec = [];
        }

        if (spec["taints"] is not JsonArray taints)
        {
            spec["taints"] = taints = [];
        }

        if (!taints.OfType<JsonObject>().Any(t => (string?)t["key"] == NotReady && (string?)t["effect"] == "NoSchedule"))
        {
            taints.Add((JsonNode?)new JsonObject { ["key"] = NotReady, ["effect"] = "NoSchedule" });
        }

        return ValueTask.CompletedTask;
    }
}
