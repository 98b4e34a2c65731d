using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>
/// The discovery documents: /api, /apis, /api/v1, /apis/&lt;group&gt;[/&lt;version&gt;] and the aggregated
/// apidiscovery.k8s.io/v2 lists kubectl asks for first. Built once per catalog and aggregation state; the group-versions
/// of APIServices whose backend is unavailable are listed as Stale in the aggregated lists, with what they last served.
/// </summary>
internal sealed class DiscoveryDocuments
{
    public const string AggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    private readonly IReadOnlyList<ApiResource> _resources;
    private readonly List<(string Group, List<string> Versions)> _groups = [];
    private readonly Lazy<TaggedDocument> _aggregatedCore;
    private readonly Lazy<TaggedDocument> _aggregatedGroups;
    private readonly Lazy<byte[]> _groupList;
    private readonly HashSet<(string Group, string Version)> _stale = [];

    public DiscoveryDocuments(IReadOnlyList<ApiResource> resources, IReadOnlyCollection<Aggregation.ApiServiceBackend>? aggregated = null)
    {
        aggregated ??= [];
        _resources = [.. resources, .. aggregated.SelectMany(b => b.Resources)];
        foreach (var (group, version) in _resources.Select(r => (r.Group, r.Version)).Concat(aggregated.Select(b => (b.Group, b.Version))))
        {
            var entry = _groups.FirstOrDefault(g => g.Group == group);
            if (entry.Versions is null)
            {
                entry = (group, []);
                _groups.Add(entry);
            }

            if (!entry.Versions.Contains(version))
            {
                entry.Versions.Add(version);
            }
        }

        foreach (var backend in aggregated.Where(b => !b.Available))
        {
            _stale.Add((backend.Group, backend.Version));
        }

        foreach (var (_, versions) in _groups)
        {
            versions.Sort(CompareVersions);
        }

        _aggregatedCore = new(() => TaggedDocument.Of(Bytes(Aggregated(_groups.Where(g => g.Group.Length == 0)))));
        _aggregatedGroups = new(() => TaggedDocument.Of(Bytes(Aggregated(_groups.Where(g => g.Group.Length > 0)))));
        _groupList = new(() => Bytes(GroupList()));
    }

    /// <summary>The aggregated list of the core group (GET /api).</summary>
    public TaggedDocument AggregatedCore => _aggregatedCore.Value;

    /// <summary>The aggregated list of the named groups (GET /apis).</summary>
    public TaggedDocument AggregatedGroups => _aggregatedGroups.Value;

    public byte[] ApiGroupList => _groupList.Value;

    public JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public JsonObject? ApiGroup(string group)
    {
        var entry = _groups.FirstOrDefault(g => g.Group == group && group.Length > 0);
        return entry.Versions is null ? null : GroupNode(entry.Group, entry.Versions, withKind: true);
    }

    public JsonObject? ResourceList(string group, string version)
    {
        var resources = _resources.Where(r => r.Group == group && r.Version == version).ToList();
        if (resources.Count == 0)
        {
            return null;
        }

        var list = new JsonArray();
        foreach (var r in resources)
        {
            var item = new JsonObject
            {
                ["name"] = r.Resource,
                ["singularName"] = r.SingularName,
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
                ["verbs"] = Strings(r.Verbs),
            };
            if (r.ShortNames.Count > 0)
            {
                item["shortNames"] = Strings(r.ShortNames);
            }

            if (r.Categories.Count > 0)
            {
                item["categories"] = Strings(r.Categories);
            }

            item["storageVersionHash"] = StorageVersionHash(r);
            list.Add((JsonNode?)item);
            foreach (var (sub, verbs) in r.Subresources)
            {
                var (kind, subGroup, subVersion) = SubresourceKind(r, sub);
                var subItem = new JsonObject
                {
                    ["name"] = $"{r.Resource}/{sub}",
                    ["singularName"] = string.Empty,
                    ["namespaced"] = r.Namespaced,
                    ["kind"] = kind,
                    ["verbs"] = Strings(verbs),
                };
                if (subGroup != r.Group || subVersion != r.Version)
                {
                    subItem["group"] = subGroup;
                    subItem["version"] = subVersion;
                }

                list.Add((JsonNode?)subItem);
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = list,
        };
    }

    /// <summary>The kind a subresource answers with (Scale for scale, the parent kind for status).</summary>
    public static (string Kind, string Group, string Version) SubresourceKind(ApiResource resource, string subresource) => subresource switch
    {
        "scale" => ("Scale", "autoscaling", "v1"),
        "binding" => ("Binding", string.Empty, "v1"),
        "eviction" => ("Eviction", "policy", "v1"),
        "token" => ("TokenRequest", "authentication.k8s.io", "v1"),
        "log" or "exec" or "attach" or "portforward" or "proxy" => (subresource switch
        {
            "log" => "Pod",
            "exec" => "PodExecOptions",
            "attach" => "PodAttachOptions",
            "portforward" => "PodPortForwardOptions",
            _ => resource.Kind == "Pod" ? "PodProxyOptions" : resource.Kind + "ProxyOptions",
        }, string.Empty, "v1"),
        _ => (resource.Kind, resource.Group, resource.Version),
    };

    private JsonObject Aggregated(IEnumerable<(string Group, List<string> Versions)> groups)
    {
        var items = new JsonArray();
        foreach (var (group, versions) in groups)
        {
            var versionNodes = new JsonArray();
            foreach (var version in versions)
            {
                var resources = new JsonArray();
                foreach (var r in _resources.Where(r => r.Group == group && r.Version == version))
                {
                    var node = new JsonObject
                    {
                        ["resource"] = r.Resource,
                        ["responseKind"] = new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind },
                        ["scope"] = r.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = r.SingularName,
                        ["verbs"] = Strings(r.Verbs),
                    };
                    if (r.ShortNames.Count > 0)
                    {
                        node["shortNames"] = Strings(r.ShortNames);
                    }

                    if (r.Categories.Count > 0)
                    {
                        node["categories"] = Strings(r.Categories);
                    }

                    if (r.Subresources.Count > 0)
                    {
                        var subs = new JsonArray();
                        foreach (var (sub, verbs) in r.Subresources)
                        {
                            var (kind, subGroup, subVersion) = SubresourceKind(r, sub);
                            subs.Add((JsonNode?)new JsonObject
                            {
                                ["subresource"] = sub,
                                ["responseKind"] = new JsonObject { ["group"] = subGroup, ["version"] = subVersion, ["kind"] = kind },
                                ["verbs"] = Strings(verbs),
                            });
                        }

                        node["subresources"] = subs;
                    }

                    resources.Add((JsonNode?)node);
                }

                versionNodes.Add((JsonNode?)new JsonObject { ["version"] = version, ["resources"] = resources, ["freshness"] = _stale.Contains((group, version)) ? "Stale" : "Current" });
            }

            var metadata = new JsonObject { ["creationTimestamp"] = null };
            if (group.Length > 0)
            {
                metadata["name"] = group;
            }

            items.Add((JsonNode?)new JsonObject { ["metadata"] = metadata, ["versions"] = versionNodes });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/v2",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var (group, versions) in _groups.Where(g => g.Group.Length > 0))
        {
            groups.Add((JsonNode?)GroupNode(group, versions, withKind: false));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    private static JsonObject GroupNode(string group, List<string> versions, bool withKind)
    {
        var versionNodes = new JsonArray();
        foreach (var version in versions)
        {
            versionNodes.Add((JsonNode?)new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version });
        }

        var node = new JsonObject();
        if (withKind)
        {
            node["kind"] = "APIGroup";
            node["apiVersion"] = "v1";
        }

        node["name"] = group;
        node["versions"] = versionNodes;
        node["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] };
        return node;
    }

    /// <summary>Newest stable first: v2 before v1 before v1beta1 before v1alpha1.</summary>
    private static int CompareVersions(string a, string b)
    {
        static (int Major, int Stage, int Minor) Parse(string v)
        {
            var s = v.TrimStart('v');
            var stage = s.Contains("alpha", StringComparison.Ordinal) ? 0 : s.Contains("beta", StringComparison.Ordinal) ? 1 : 2;
            var parts = s.Split(["alpha", "beta"], StringSplitOptions.None);
            _ = int.TryParse(parts[0], out var major);
            var minor = parts.Length > 1 && int.TryParse(parts[1], out var m) ? m : 0;
            return (major, stage, minor);
        }

        var (ma, sa, na) = Parse(a);
        var (mb, sb, nb) = Parse(b);
        return sa != sb ? sb.CompareTo(sa) : ma != mb ? mb.CompareTo(ma) : nb.CompareTo(na);
    }

    private static string StorageVersionHash(ApiResource r)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{r.Group}/{r.Version}/{r.Kind}"));
        return Convert.ToBase64String(hash, 0, 8);
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static byte[] Bytes(JsonNode node) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(node, Caching.StoredJsonContext.Default.JsonNode);

    /// <summary>
    /// A served document with its entity tag (a quoted hash of its bytes), as upstream serves aggregated discovery: a
    /// client that sends the tag back in If-None-Match while the document is the same gets 304 and no body.
    /// </summary>
    internal sealed record TaggedDocument(byte[] Body, string ETag)
    {
        public static TaggedDocument Of(byte[] body) => new(body, $"\"{Convert.ToHexString(SHA256.HashData(body))}\"");
    }
}
