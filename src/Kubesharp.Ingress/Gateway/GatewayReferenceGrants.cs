using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The ReferenceGrants (gateway.networking.k8s.io/v1beta1) of the cluster: a reference from an object in one namespace
/// to an object in another is permitted only when a grant in the target's namespace lists the referring group, kind
/// and namespace in <c>from</c> and the target's group, kind and (if it names one) name in <c>to</c>.
/// </summary>
internal sealed class GatewayReferenceGrants(IReadOnlyList<JsonObject> grants)
{
    public static readonly GatewayReferenceGrants None = new([]);

    public bool Permits(string fromGroup, string fromKind, string fromNamespace, string toGroup, string toKind, string toNamespace, string toName)
    {
        if (fromNamespace == toNamespace)
        {
            return true;
        }

        foreach (var grant in grants)
        {
            if ((string?)grant["metadata"]?["namespace"] != toNamespace)
            {
                continue;
            }

            var from = (grant["spec"]?["from"] as JsonArray ?? []).OfType<JsonObject>().Any(f =>
                ((string?)f["group"] ?? string.Empty) == fromGroup && (string?)f["kind"] == fromKind && (string?)f["namespace"] == fromNamespace);
            var to = (grant["spec"]?["to"] as JsonArray ?? []).OfType<JsonObject>().Any(t =>
                ((string?)t["group"] ?? string.Empty) == toGroup && (string?)t["kind"] == toKind && ((string?)t["name"] is null or "" || (string?)t["name"] == toName));
            if (from && to)
            {
                return true;
            }
        }

        return false;
    }
}
