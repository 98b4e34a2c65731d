using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Deployments;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.ControllerRevisions;

/// <summary>
/// The revision history of a StatefulSet or DaemonSet kept as ControllerRevisions, as upstream keeps it: each
/// revision holds a strategic merge patch that replaces <c>spec.template</c> (so <c>kubectl rollout undo</c> applies
/// it as is), carries the template's labels plus <c>controller-revision-hash</c>, is controlled by its workload and
/// numbered one above the newest revision when its template becomes the current one again.
/// </summary>
internal static class ControllerRevisionHistory
{
    public const string HashLabel = "controller-revision-hash";

    /// <summary>The revision data for a template: <c>{"spec":{"template":{…,"$patch":"replace"}}}</c>.</summary>
    public static JsonObject TemplatePatch(PodTemplateSpec? template)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(template ?? new PodTemplateSpec()))!.AsObject();
        node["$patch"] = "replace";
        return new JsonObject { ["spec"] = new JsonObject { ["template"] = node } };
    }

    /// <summary>The template a revision restores, or null when its data holds none.</summary>
    public static PodTemplateSpec? Template(ControllerRevision revision)
    {
        if (revision.Data?["spec"]?["template"] is not JsonObject template)
        {
            return null;
        }

        var copy = template.DeepClone().AsObject();
        copy.Remove("$patch");
        return KubernetesJson.Deserialize<PodTemplateSpec>(Encoding.UTF8.GetBytes(copy.ToJsonString()));
    }

    /// <summary>FNV-1 (32 bit) over the data and the collision count, in the vowel-free alphabet of pod-template-hash.</summary>
    public static string Hash(JsonNode data, int? collisionCount)
    {
        var hash = 2166136261u;
        void Append(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                hash = unchecked(hash * 16777619u);
                hash ^= b;
            }
        }

        Append(Encoding.UTF8.GetBytes(data.ToJsonString()));
        if (collisionCount is { } count)
        {
            Append(Encoding.UTF8.GetBytes(count.ToString(CultureInfo.InvariantCulture)));
        }

        return PodTemplateHash.SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Revision names are the owner's name (cut to leave room) and the hash.</summary>
    public static string Name(string ownerName, string hash)
    {
        const int MaxPrefix = 253 - 1 - 29;
        return (ownerName.Length > MaxPrefix ? ownerName[..MaxPrefix] : ownerName) + "-" + hash;
    }

    public static ControllerRevision New(
        ObjectMeta owner,
        string ownerApiVersion,
        string ownerKind,
        PodTemplateSpec? template,
        JsonObject data,
        string hash,
        long revision)
    {
        var labels = template?.Metadata?.Labels is { } templateLabels ? new Dictionary<string, string>(templateLabels) : [];
        labels[HashLabel] = hash;
        return new ControllerRevision
        {
            ApiVersion = ControllerRevision.KubeApiVersion,
            Kind = ControllerRevision.KubeKind,
            Metadata = new ObjectMeta
            {
                Name = Name(owner.Name ?? string.Empty, hash),
                Namespace = owner.Namespace,
                Labels = labels,
                Annotations = owner.Annotations is { Count: > 0 } annotations ? new Dictionary<string, string>(annotations) : null,
                OwnerReferences = [ControllerRef.New(ownerApiVersion, ownerKind, owner)],
            },
            Data = data,
            Revision = revision,
        };
    }

    /// <summary>Whether the revision restores exactly this data.</summary>
    public static bool Matches(ControllerRevision revision, JsonNode data) => JsonNode.DeepEquals(revision.Data, data);

    /// <summary>Oldest first: by revision number, then creation time, then name.</summary>
    public static List<ControllerRevision> Sorted(IEnumerable<ControllerRevision> revisions) =>
        revisions.OrderBy(r => r.Revision ?? 0)
            .ThenBy(r => r.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue)
            .ThenBy(r => r.Metadata?.Name, StringComparer.Ordinal)
            .ToList();

    public static long NextRevision(IEnumerable<ControllerRevision> revisions) =>
        revisions.Select(r => r.Revision ?? 0).DefaultIfEmpty(0).Max() + 1;

    /// <summary>
    /// The revisions to delete so that at most <paramref name="limit"/> old ones remain, oldest first; revisions in
    /// <paramref name="inUse"/> (current, update, or still running pods) are never deleted.
    /// </summary>
    public static List<ControllerRevision> Excess(IReadOnlyList<ControllerRevision> revisions, ISet<string> inUse, int limit)
    {
        var old = Sorted(revisions).Where(r => !inUse.Contains(r.Metadata?.Name ?? string.Empty)).ToList();
        var excess = old.Count - Math.Max(limit, 0);
        return excess > 0 ? old.Take(excess).ToList() : [];
    }
}
