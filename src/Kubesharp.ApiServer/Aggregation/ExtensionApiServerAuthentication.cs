using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Publishes how extension API servers authenticate what the aggregator sends them, as upstream does: the ConfigMap
/// kube-system/extension-apiserver-authentication (client-ca-file, and the requestheader-* keys naming the front-proxy
/// CA, the allowed client name and the X-Remote-* headers), and the Role that lets them read it.
/// </summary>
internal static class ExtensionApiServerAuthentication
{
    public const string Namespace = "kube-system";
    public const string ConfigMapName = "extension-apiserver-authentication";
    public const string ReaderRole = "extension-apiserver-authentication-reader";

    public static async Task PublishAsync(ResourceRegistry registry, string clientCaPem, FrontProxyCertificates frontProxy, CancellationToken cancellationToken)
    {
        var data = new JsonObject
        {
            ["client-ca-file"] = clientCaPem,
            ["requestheader-allowed-names"] = $"[\"{FrontProxyCertificates.ClientName}\"]",
            ["requestheader-client-ca-file"] = frontProxy.CaPem,
            ["requestheader-extra-headers-prefix"] = $"[\"{ApiServiceProxy.ExtraHeaderPrefix}\"]",
            ["requestheader-group-headers"] = $"[\"{ApiServiceProxy.GroupHeader}\"]",
            ["requestheader-username-headers"] = $"[\"{ApiServiceProxy.UserHeader}\"]",
        };
        if (registry.FindByGroupResource("configmaps") is { } configMaps)
        {
            var existing = registry.Get(configMaps, Namespace, ConfigMapName)?.ToNode();
            if (existing is null)
            {
                await CreateAsync(registry, configMaps, new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "ConfigMap",
                    ["metadata"] = new JsonObject { ["name"] = ConfigMapName, ["namespace"] = Namespace },
                    ["data"] = data,
                }, cancellationToken).ConfigureAwait(false);
            }
            else if (!JsonNode.DeepEquals(existing["data"], data))
            {
                await registry.UpdateAsync(configMaps, Namespace, ConfigMapName, current =>
                {
                    var node = current.ToNode();
                    node["data"] = data.DeepClone();
                    return node;
                }, null, dryRun: false, cancellationToken).ConfigureAwait(false);
            }
        }

        if (registry.FindByGroupResource("roles.rbac.authorization.k8s.io") is { } roles && registry.Get(roles, Namespace, ReaderRole) is null)
        {
            await CreateAsync(registry, roles, new JsonObject
            {
                ["apiVersion"] = "rbac.authorization.k8s.io/v1",
                ["kind"] = "Role",
                ["metadata"] = new JsonObject
                {
                    ["name"] = ReaderRole,
                    ["namespace"] = Namespace,
                    ["labels"] = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" },
                },
                ["rules"] = new JsonArray(new JsonObject
                {
                    ["apiGroups"] = new JsonArray(""),
                    ["resources"] = new JsonArray("configmaps"),
                    ["resourceNames"] = new JsonArray(ConfigMapName),
                    ["verbs"] = new JsonArray("get", "list", "watch"),
                }),
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CreateAsync(ResourceRegistry registry, Kubesharp.ApiMachinery.Discovery.ApiResource resource, JsonObject obj, CancellationToken cancellationToken)
    {
        try
        {
            await registry.CreateAsync(resource, (string?)obj["metadata"]!["namespace"], obj, dryRun: false, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Reason == "AlreadyExists")
        {
        }
    }
}
