using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's DefaultTolerationSeconds: a new pod tolerates the not-ready and unreachable NoExecute taints for
/// 300 seconds unless it says otherwise, so a node's short outage does not evict it at once.
/// </summary>
internal sealed class DefaultTolerationSecondsPlugin : IMutatingAdmissionPlugin
{
    private const long DefaultSeconds = 300;

    public string Name => "DefaultTolerationSeconds";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation == AdmissionOperation.Create && attributes.Subresource.Length == 0 && attributes.Resource.GroupResource == "pods";

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        if (attributes.Object?["spec"] is not JsonObject spec)
        {
            return ValueTask.CompletedTask;
        }

        if (spec["tolerations"] is not JsonArray tolerations)
        {
            tolerations = [];
            spec["tolerations"] = tolerations;
        }

        foreach (var taint in new[] { "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable" })
        {
            // A toleration of every NoExecute taint (empty key, Exists) already covers it.
            var covered = tolerations.OfType<JsonObject>().Any(t =>
                ((string?)t["key"] == taint || (string.IsNullOrEmpty((string?)t["key"]) && (string?)t["operator"] == "Exists")) &&
                ((string?)t["effect"] is null or "" or "NoExecute"));
            if (!covered)
            {
                tolerations.Add((JsonNode?)new JsonObject { ["key"] = taint, ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = DefaultSeconds });
            }
        }

        return ValueTask.CompletedTask;
    }
}
