using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// Every listable built-in resource in discovery answers a Table with upstream's columns, in upstream's order, the
/// -o wide ones at priority 1. The expectations are written out here (as kubectl prints the headers), not read from
/// the server, and a resource discovery lists without an expectation fails the test.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TableColumnsTests(TestServer server)
{
    private const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

    private static readonly string[] CreatedAt = ["NAME", "CREATED AT"];
    private static readonly string[] NameAge = ["NAME", "AGE"];
    private static readonly string[] Containers = ["CONTAINERS", "IMAGES", "SELECTOR"];
    private static readonly string[] Subjects = ["USERS", "GROUPS", "SERVICEACCOUNTS"];

    /// <summary>group-resource → (columns shown by default, columns added by -o wide).</summary>
    private static readonly Dictionary<string, (string[] Normal, string[] Wide)> Expected = new(StringComparer.Ordinal)
    {
        ["componentstatuses"] = (["NAME", "STATUS", "MESSAGE", "ERROR"], []),
        ["configmaps"] = (["NAME", "DATA", "AGE"], []),
        ["endpoints"] = (["NAME", "ENDPOINTS", "AGE"], []),
        ["events"] = (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"]),
        ["limitranges"] = (CreatedAt, []),
        ["namespaces"] = (["NAME", "STATUS", "AGE"], []),
        ["nodes"] = (["NAME", "STATUS", "ROLES", "AGE", "VERSION"], ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]),
        ["persistentvolumeclaims"] = (["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"], ["VOLUMEMODE"]),
        ["persistentvolumes"] = (["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"], ["VOLUMEMODE"]),
        ["pods"] = (["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
        ["podtemplates"] = (["NAME", "CONTAINERS", "IMAGES", "POD LABELS"], []),
        ["replicationcontrollers"] = (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], Containers),
        ["resourcequotas"] = (["NAME", "AGE", "REQUEST", "LIMIT"], []),
        ["secrets"] = (["NAME", "TYPE", "DATA", "AGE"], []),
        ["serviceaccounts"] = (["NAME", "SECRETS", "AGE"], []),
        ["services"] = (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
        ["mutatingadmissionpolicies.admissionregistration.k8s.io"] = (["NAME", "MUTATIONS", "PARAMKIND", "AGE"], []),
        ["mutatingadmissionpolicybindings.admissionregistration.k8s.io"] = (["NAME", "POLICYNAME", "PARAMREF", "AGE"], []),
        ["mutatingwebhookconfigurations.admissionregistration.k8s.io"] = (["NAME", "WEBHOOKS", "AGE"], []),
        ["validatingadmissionpolicies.admissionregistration.k8s.io"] = (["NAME", "VALIDATIONS", "PARAMKIND", "AGE"], []),
        ["validatingadmissionpolicybindings.admissionregistration.k8s.io"] = (["NAME", "POLICYNAME", "PARAMREF", "AGE"], []),
        ["validatingwebhookconfigurations.admissionregistration.k8s.io"] = (["NAME", "WEBHOOKS", "AGE"], []),
        ["customresourcedefinitions.apiextensions.k8s.io"] = (CreatedAt, []),
        ["apiservices.apiregistration.k8s.io"] = (["NAME", "SERVICE", "AVAILABLE", "AGE"], []),
        ["controllerrevisions.apps"] = (["NAME", "CONTROLLER", "REVISION", "AGE"], []),
        ["daemonsets.apps"] = (["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"], Containers),
        ["deployments.apps"] = (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], Containers),
        ["replicasets.apps"] = (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], Containers),
        ["statefulsets.apps"] = (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"]),
        ["horizontalpodautoscalers.autoscaling"] = (["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], []),
        ["cronjobs.batch"] = (["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], Containers),
        ["jobs.batch"] = (["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], Containers),
        ["certificatesigningrequests.certificates.k8s.io"] = (["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"], []),
        ["leases.coordination.k8s.io"] = (["NAME", "HOLDER", "AGE"], []),
        ["endpointslices.discovery.k8s.io"] = (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
        ["events.events.k8s.io"] = (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"]),
        ["flowschemas.flowcontrol.apiserver.k8s.io"] = (["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"], []),
        ["prioritylevelconfigurations.flowcontrol.apiserver.k8s.io"] = (["NAME", "TYPE", "NOMINALCONCURRENCYSHARES", "QUEUES", "HANDSIZE", "QUEUELENGTHLIMIT", "AGE"], []),
        ["ingressclasses.networking.k8s.io"] = (["NAME", "CONTROLLER", "PARAMETERS", "AGE"], []),
        ["ingresses.networking.k8s.io"] = (["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], []),
        ["ipaddresses.networking.k8s.io"] = (["NAME", "PARENTREF"], []),
        ["networkpolicies.networking.k8s.io"] = (["NAME", "POD-SELECTOR", "AGE"], []),
        ["servicecidrs.networking.k8s.io"] = (["NAME", "CIDRS", "AGE"], []),
        ["runtimeclasses.node.k8s.io"] = (["NAME", "HANDLER", "AGE"], []),
        ["poddisruptionbudgets.policy"] = (["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], []),
        ["clusterrolebindings.rbac.authorization.k8s.io"] = (["NAME", "ROLE", "AGE"], Subjects),
        ["clusterroles.rbac.authorization.k8s.io"] = (CreatedAt, []),
        ["rolebindings.rbac.authorization.k8s.io"] = (["NAME", "ROLE", "AGE"], Subjects),
        ["roles.rbac.authorization.k8s.io"] = (CreatedAt, []),
        ["deviceclasses.resource.k8s.io"] = (NameAge, []),
        ["resourceclaims.resource.k8s.io"] = (["NAME", "STATE", "AGE"], []),
        ["resourceclaimtemplates.resource.k8s.io"] = (NameAge, []),
        ["resourceslices.resource.k8s.io"] = (["NAME", "NODE", "DRIVER", "POOL", "AGE"], []),
        ["priorityclasses.scheduling.k8s.io"] = (["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], []),
        ["csidrivers.storage.k8s.io"] = (["NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS", "REQUIRESREPUBLISH", "MODES", "AGE"], []),
        ["csinodes.storage.k8s.io"] = (["NAME", "DRIVERS", "AGE"], []),
        ["csistoragecapacities.storage.k8s.io"] = (["NAME", "STORAGECLASSNAME", "CAPACITY"], []),
        ["storageclasses.storage.k8s.io"] = (["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"], []),
        ["volumeattachments.storage.k8s.io"] = (["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"], []),
        ["volumeattributesclasses.storage.k8s.io"] = (["NAME", "DRIVERNAME", "AGE"], []),
    };

    [Fact]
    public async Task EveryListableResource_AnswersUpstreamColumns()
    {
        var checkedResources = new List<string>();
        foreach (var (groupVersion, resource) in await ListableResourcesAsync())
        {
            var group = groupVersion.Contains('/', StringComparison.Ordinal) ? groupVersion[..groupVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;
            var groupResource = group.Length == 0 ? resource : resource + "." + group;
            if (group == "metrics.k8s.io")
            {
                continue; // served by the metrics API (node agents), not by resource definitions
            }

            Assert.True(Expected.TryGetValue(groupResource, out var expected), $"no expected columns written for {groupResource} ({groupVersion})");
            var path = (group.Length == 0 ? "/api/" : "/apis/") + groupVersion + "/" + resource + "?limit=1";
            var (status, table) = await server.GetAsync(path, TableAccept);
            Assert.True(status == HttpStatusCode.OK, $"{path}: {status}");
            Assert.Equal("Table", (string?)table!["kind"]);
            var columns = table["columnDefinitions"]!.AsArray().Select(c => c!.AsObject()).ToList();
            // Compared as text so a failure names the resource and shows both lists.
            Assert.Equal(
                $"{groupResource}: {string.Join(" | ", expected.Normal)}",
                $"{groupResource}: {string.Join(" | ", columns.Where(c => (int?)c["priority"] != 1).Select(c => ((string?)c["name"])!.ToUpperInvariant()))}");
            Assert.Equal(expected.Normal.Length + expected.Wide.Length, columns.Count);
            Assert.Equal(
                $"{groupResource} wide: {string.Join(" | ", expected.Wide)}",
                $"{groupResource} wide: {string.Join(" | ", columns.Where(c => (int?)c["priority"] == 1).Select(c => ((string?)c["name"])!.ToUpperInvariant()))}");
            foreach (var row in table["rows"]!.AsArray())
            {
                Assert.Equal(columns.Count, row!["cells"]!.AsArray().Count);
            }

            checkedResources.Add(groupResource);
        }

        // Events interleave their wide columns; -o wide prints them in this order.
        var (_, events) = await server.GetAsync("/api/v1/events?limit=1", TableAccept);
        Assert.Equal(
            ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"],
            events!["columnDefinitions"]!.AsArray().Select(c => ((string?)c!["name"])!.ToUpperInvariant()));
        Assert.Contains("persistentvolumes", checkedResources);
        Assert.Contains("horizontalpodautoscalers.autoscaling", checkedResources);
        Assert.True(checkedResources.Count >= 55, $"only {checkedResources.Count} resources checked");
    }

    [Fact]
    public async Task TableList_ThousandsOfObjects_StreamsEveryRowWithWhatIncludeObjectAsks()
    {
        const int count = 2_000;
        var ns = "table-" + Guid.NewGuid().ToString("N")[..8];
        using (var create = await server.Client.PostAsync("/api/v1/namespaces", Json($$$"""{"metadata":{"name":"{{{ns}}}"}}""")))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }

        try
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < count)
                {
                    using var response = await server.Client.PostAsync($"/api/v1/namespaces/{ns}/configmaps", Json($$$"""{"metadata":{"name":"cm-{{{n:D4}}}"},"data":{"k":"{{{new string('x', 200)}}}"}}"""));
                    Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                }
            })));

            foreach (var include in new[] { "Metadata", "Object", "None" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps?includeObject={include}");
                request.Headers.TryAddWithoutValidation("Accept", TableAccept);
                using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("application/json;as=Table;v=v1;g=meta.k8s.io", response.Content.Headers.ContentType?.ToString().Replace(" ", string.Empty, StringComparison.Ordinal));
                // Written as it is encoded, so its length is not known up front.
                Assert.Null(response.Content.Headers.ContentLength);
                var table = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                Assert.Equal("Table", (string?)table["kind"]);
                Assert.Equal(["Name", "Data", "Age"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
                var rows = table["rows"]!.AsArray();
                Assert.Equal(Enumerable.Range(0, count).Select(n => $"cm-{n:D4}"), rows.Select(r => (string?)r!["cells"]![0]));
                Assert.All(rows, row => Assert.Equal(1L, (long?)row!["cells"]![1]));
                switch (include)
                {
                    case "Metadata":
                        Assert.All(rows, row => Assert.Equal("PartialObjectMetadata", (string?)row!["object"]!["kind"]));
                        Assert.All(rows, row => Assert.Null(row!["object"]!["data"]));
                        Assert.Equal(ns, (string?)rows[0]!["object"]!["metadata"]!["namespace"]);
                        break;
                    case "Object":
                        Assert.All(rows, row => Assert.Equal("ConfigMap", (string?)row!["object"]!["kind"]));
                        Assert.Equal(200, ((string?)rows[^1]!["object"]!["data"]!["k"])!.Length);
                        break;
                    default:
                        Assert.All(rows, row => Assert.False(row!.AsObject().ContainsKey("object")));
                        break;
                }
            }
        }
        finally
        {
            using var _ = await server.Client.DeleteAsync($"/api/v1/namespaces/{ns}");
        }
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private async Task<List<(string GroupVersion, string Resource)>> ListableResourcesAsync()
    {
        var groupVersions = new List<string> { "v1" };
        var (_, groups) = await server.GetAsync("/apis");
        foreach (var group in groups!["groups"]!.AsArray())
        {
            groupVersions.AddRange(group!["versions"]!.AsArray().Select(v => (string)v!["groupVersion"]!));
        }

        var result = new List<(string, string)>();
        foreach (var groupVersion in groupVersions)
        {
            var (status, list) = await server.GetAsync(groupVersion == "v1" ? "/api/v1" : "/apis/" + groupVersion);
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var r in list!["resources"]!.AsArray())
            {
                var name = (string)r!["name"]!;
                if (!name.Contains('/', StringComparison.Ordinal) && r["verbs"]!.AsArray().Any(v => (string?)v == "list"))
                {
                    result.Add((groupVersion, name));
                }
            }
        }

        return result;
    }
}
