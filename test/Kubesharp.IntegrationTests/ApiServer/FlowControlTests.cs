using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// API Priority and Fairness end to end: the default configuration objects, classification by FlowSchemas created
/// through the API, rejection and queuing at a priority level of one seat, and watches that hold no seat.
/// A request is held in its seat deterministically by sending its body slowly, and the server's own
/// dump_priority_levels shows when it executes or waits, so no assertion depends on timing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FlowControlTests(TestServer server)
{
    private readonly List<string> _bindings = [];

    private const string Api = "/apis/flowcontrol.apiserver.k8s.io/v1";
    private const string FlowSchemaUidHeader = "X-Kubernetes-PF-FlowSchema-UID";
    private const string PriorityLevelUidHeader = "X-Kubernetes-PF-PriorityLevel-UID";

    private static readonly string[] PriorityLevels = ["exempt", "catch-all", "system", "node-high", "leader-election", "workload-high", "workload-low", "global-default"];

    private static readonly (string Name, string Level, int Precedence)[] FlowSchemas =
    [
        ("exempt", "exempt", 1), ("probes", "exempt", 2), ("system-leader-election", "leader-election", 100),
        ("endpoint-controller", "workload-high", 150), ("workload-leader-election", "leader-election", 200),
        ("system-node-high", "node-high", 400), ("system-nodes", "system", 500), ("kube-controller-manager", "workload-high", 800),
        ("kube-scheduler", "workload-high", 800), ("kube-system-service-accounts", "workload-high", 900),
        ("service-accounts", "workload-low", 9000), ("global-default", "global-default", 9900), ("catch-all", "catch-all", 10000),
    ];

    [Fact]
    public async Task Defaults_AfterStart_ExistWithUpstreamSpecsAndAutoUpdateAnnotation()
    {
        foreach (var name in PriorityLevels)
        {
            var (status, level) = await server.GetAsync($"{Api}/prioritylevelconfigurations/{name}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("true", (string?)level!["metadata"]!["annotations"]!["apf.kubernetes.io/autoupdate-spec"]);
        }

        foreach (var (name, level, precedence) in FlowSchemas)
        {
            var (status, schema) = await server.GetAsync($"{Api}/flowschemas/{name}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(level, (string?)schema!["spec"]!["priorityLevelConfiguration"]!["name"]);
            Assert.Equal(precedence, (int)schema["spec"]!["matchingPrecedence"]!);
            Assert.Equal("true", (string?)schema["metadata"]!["annotations"]!["apf.kubernetes.io/autoupdate-spec"]);
            var dangling = ((JsonArray)schema["status"]!["conditions"]!).Single(c => (string?)c!["type"] == "Dangling")!;
            Assert.Equal("False", (string?)dangling["status"]);
            Assert.Equal("Found", (string?)dangling["reason"]);
        }

        var (_, exempt) = await server.GetAsync($"{Api}/prioritylevelconfigurations/exempt");
        Assert.Equal("Exempt", (string?)exempt!["spec"]!["type"]);
        var (_, catchAll) = await server.GetAsync($"{Api}/prioritylevelconfigurations/catch-all");
        Assert.Equal(5, (int)catchAll!["spec"]!["limited"]!["nominalConcurrencyShares"]!);
        Assert.Equal("Reject", (string?)catchAll["spec"]!["limited"]!["limitResponse"]!["type"]);
        var (_, workloadLow) = await server.GetAsync($"{Api}/prioritylevelconfigurations/workload-low");
        var limited = workloadLow!["spec"]!["limited"]!;
        Assert.Equal(100, (int)limited["nominalConcurrencyShares"]!);
        Assert.Equal(90, (int)limited["lendablePercent"]!);
        Assert.Equal("Queue", (string?)limited["limitResponse"]!["type"]);
        Assert.Equal(128, (int)limited["limitResponse"]!["queuing"]!["queues"]!);
        Assert.Equal(6, (int)limited["limitResponse"]!["queuing"]!["handSize"]!);
        Assert.Equal(50, (int)limited["limitResponse"]!["queuing"]!["queueLengthLimit"]!);
        var (_, nodeHigh) = await server.GetAsync($"{Api}/flowschemas/system-node-high");
        var rule = nodeHigh!["spec"]!["rules"]![0]!;
        Assert.Equal("system:nodes", (string?)rule["subjects"]![0]!["group"]!["name"]);
        Assert.Equal("nodes", (string?)rule["resourceRules"]![0]!["resources"]![0]);
    }

    [Fact]
    public async Task Create_WithoutOptionalFields_GetsUpstreamDefaults_AndInvalidSpecsAre422()
    {
        var id = Id();
        var (levelStatus, level) = await server.PostAsync($"{Api}/prioritylevelconfigurations",
            """{"metadata":{"name":"apf-ID"},"spec":{"type":"Limited","limited":{"limitResponse":{"type":"Queue"}}}}""".Replace("ID", id, StringComparison.Ordinal));
        var (schemaStatus, schema) = await server.PostAsync($"{Api}/flowschemas",
            """{"metadata":{"name":"apf-ID"},"spec":{"priorityLevelConfiguration":{"name":"apf-ID"},"rules":[{"subjects":[{"kind":"Group","group":{"name":"apf-ID"}}],"nonResourceRules":[{"verbs":["get"],"nonResourceURLs":["/version"]}]}]}}""".Replace("ID", id, StringComparison.Ordinal));
        try
        {
            Assert.Equal(HttpStatusCode.Created, levelStatus);
            var limited = level!["spec"]!["limited"]!;
            Assert.Equal(30, (int)limited["nominalConcurrencyShares"]!);
            Assert.Equal(0, (int)limited["lendablePercent"]!);
            Assert.Equal(64, (int)limited["limitResponse"]!["queuing"]!["queues"]!);
            Assert.Equal(8, (int)limited["limitResponse"]!["queuing"]!["handSize"]!);
            Assert.Equal(50, (int)limited["limitResponse"]!["queuing"]!["queueLengthLimit"]!);
            Assert.Equal(HttpStatusCode.Created, schemaStatus);
            Assert.Equal(1000, (int)schema!["spec"]!["matchingPrecedence"]!);

            var (precedence, invalid) = await server.PostAsync($"{Api}/flowschemas",
                """{"metadata":{"name":"apf-invalid"},"spec":{"priorityLevelConfiguration":{"name":"x"},"matchingPrecedence":10001,"rules":[]}}""");
            Assert.Equal((HttpStatusCode)422, precedence);
            Assert.Equal("Invalid", (string?)invalid!["reason"]);
            Assert.Equal("spec.matchingPrecedence", (string?)invalid["details"]!["causes"]![0]!["field"]);

            var (hand, _) = await server.PostAsync($"{Api}/prioritylevelconfigurations",
                """{"metadata":{"name":"apf-invalid"},"spec":{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{"queues":2,"handSize":3,"queueLengthLimit":1}}}}}""");
            Assert.Equal((HttpStatusCode)422, hand);
            var (type, _) = await server.PostAsync($"{Api}/prioritylevelconfigurations", """{"metadata":{"name":"apf-invalid"},"spec":{"type":"Unlimited"}}""");
            Assert.Equal((HttpStatusCode)422, type);
        }
        finally
        {
            await DeleteAsync("apf-" + id);
        }
    }

    [Fact]
    public async Task Table_ForFlowSchemasAndPriorityLevels_HasUpstreamColumns()
    {
        const string accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
        var (_, schemas) = await server.GetAsync($"{Api}/flowschemas", accept);
        Assert.Equal(["Name", "PriorityLevel", "MatchingPrecedence", "DistinguisherMethod", "Age", "MissingPL"],
            ((JsonArray)schemas!["columnDefinitions"]!).Select(c => (string)c!["name"]!).ToArray());
        var exempt = ((JsonArray)schemas["rows"]!).Select(r => (JsonArray)r!["cells"]!).Single(c => (string?)c[0] == "exempt");
        Assert.Equal("exempt", (string?)exempt[1]);
        Assert.Equal(1, (int)exempt[2]!);
        Assert.Equal("<none>", (string?)exempt[3]);
        Assert.Equal("False", (string?)exempt[5]);

        var (_, levels) = await server.GetAsync($"{Api}/prioritylevelconfigurations", accept);
        Assert.Equal(["Name", "Type", "NominalConcurrencyShares", "Queues", "HandSize", "QueueLengthLimit", "Age"],
            ((JsonArray)levels!["columnDefinitions"]!).Select(c => (string)c!["name"]!).ToArray());
        var global = ((JsonArray)levels["rows"]!).Select(r => (JsonArray)r!["cells"]!).Single(c => (string?)c[0] == "global-default");
        Assert.Equal(["global-default", "Limited", "20", "128", "6", "50"], global.Take(6).Select(c => c!.ToString()).ToArray());
    }

    [Fact]
    public async Task SuggestedObject_DeletedOrChanged_IsRestoredUnlessAutoUpdateIsOff()
    {
        var (deleted, _) = await server.SendAsync(HttpMethod.Delete, $"{Api}/prioritylevelconfigurations/workload-low");
        Assert.Equal(HttpStatusCode.OK, deleted);
        await EventuallyAsync(async () => (await server.GetAsync($"{Api}/prioritylevelconfigurations/workload-low")).Status == HttpStatusCode.OK);

        var (patched, _) = await server.SendAsync(HttpMethod.Patch, $"{Api}/flowschemas/service-accounts", """{"spec":{"matchingPrecedence":9001}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched);
        await EventuallyAsync(async () => (int)(await server.GetAsync($"{Api}/flowschemas/service-accounts")).Body!["spec"]!["matchingPrecedence"]! == 9000);

        try
        {
            await server.SendAsync(HttpMethod.Patch, $"{Api}/flowschemas/service-accounts",
                """{"metadata":{"annotations":{"apf.kubernetes.io/autoupdate-spec":"false"}},"spec":{"matchingPrecedence":9002}}""", "application/merge-patch+json");
            await AwaitMaintenancePassAsync();
            var (_, kept) = await server.GetAsync($"{Api}/flowschemas/service-accounts");
            Assert.Equal(9002, (int)kept!["spec"]!["matchingPrecedence"]!);
            Assert.Equal("false", (string?)kept["metadata"]!["annotations"]!["apf.kubernetes.io/autoupdate-spec"]);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Patch, $"{Api}/flowschemas/service-accounts",
                """{"metadata":{"annotations":{"apf.kubernetes.io/autoupdate-spec":"true"}}}""", "application/merge-patch+json");
            await EventuallyAsync(async () => (int)(await server.GetAsync($"{Api}/flowschemas/service-accounts")).Body!["spec"]!["matchingPrecedence"]! == 9000);
        }
    }

    [Fact]
    public async Task MandatoryObject_Changed_GetsUpstreamSpecBack()
    {
        var (patched, _) = await server.SendAsync(HttpMethod.Patch, $"{Api}/prioritylevelconfigurations/catch-all",
            """{"metadata":{"annotations":{"apf.kubernetes.io/autoupdate-spec":"false"}},"spec":{"limited":{"nominalConcurrencyShares":50}}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched);
        await EventuallyAsync(async () =>
        {
            var (_, level) = await server.GetAsync($"{Api}/prioritylevelconfigurations/catch-all");
            return (int)level!["spec"]!["limited"]!["nominalConcurrencyShares"]! == 5 &&
                   (string?)level["metadata"]!["annotations"]!["apf.kubernetes.io/autoupdate-spec"] == "true";
        });
    }

    [Fact]
    public async Task Request_OfUserInFlowSchema_LandsInItsLevel_HeadersShowUids_ChangesApplyLive()
    {
        var id = Id();
        var user = "apf-user-" + id;
        var level = await CreatePriorityLevelAsync("apf-" + id, shares: 5, queuing: true);
        var schema = await CreateFlowSchemaAsync("apf-" + id, "apf-" + id, user);
        try
        {
            using var client = await UserClientAsync(user);
            using (var response = await client.GetAsync("/api/v1/namespaces/default"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(Uid(schema), Header(response, FlowSchemaUidHeader));
                Assert.Equal(Uid(level), Header(response, PriorityLevelUidHeader));
            }

            // The admin is in system:masters: the exempt schema and level.
            using (var admin = await server.Client.GetAsync("/api/v1/namespaces/default"))
            {
                Assert.Equal(Uid((await server.GetAsync($"{Api}/flowschemas/exempt")).Body!), Header(admin, FlowSchemaUidHeader));
                Assert.Equal(Uid((await server.GetAsync($"{Api}/prioritylevelconfigurations/exempt")).Body!), Header(admin, PriorityLevelUidHeader));
            }

            // Nodes: their own Node object is node-high, the rest of what they do system.
            using var node = await UserClientAsync("system:node:apf-" + id, "system:nodes");
            using (var nodes = await node.GetAsync("/api/v1/nodes"))
            {
                Assert.Equal(Uid((await server.GetAsync($"{Api}/flowschemas/system-node-high")).Body!), Header(nodes, FlowSchemaUidHeader));
            }

            using (var pods = await node.GetAsync("/api/v1/pods"))
            {
                Assert.Equal(Uid((await server.GetAsync($"{Api}/flowschemas/system-nodes")).Body!), Header(pods, FlowSchemaUidHeader));
            }

            // A schema that names no existing level is dangling and skipped: the user falls through to global-default.
            await server.SendAsync(HttpMethod.Patch, $"{Api}/flowschemas/apf-{id}", """{"spec":{"priorityLevelConfiguration":{"name":"no-such-level"}}}""", "application/merge-patch+json");
            using (var response = await client.GetAsync("/api/v1/namespaces/default"))
            {
                Assert.Equal(Uid((await server.GetAsync($"{Api}/flowschemas/global-default")).Body!), Header(response, FlowSchemaUidHeader));
                Assert.Equal(Uid((await server.GetAsync($"{Api}/prioritylevelconfigurations/global-default")).Body!), Header(response, PriorityLevelUidHeader));
            }

            await EventuallyAsync(async () =>
            {
                var (_, dangling) = await server.GetAsync($"{Api}/flowschemas/apf-{id}");
                var condition = (dangling!["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => (string?)c!["type"] == "Dangling");
                return (string?)condition?["status"] == "True" && (string?)condition["reason"] == "NotFound";
            });
        }
        finally
        {
            await DeleteAsync("apf-" + id);
        }
    }

    [Fact]
    public async Task Flood_ByOneUserOverRejectingLevel_Gets429WithRetryAfterAndStatus_WhileAdminAndNodesAreServed()
    {
        var id = Id();
        var user = "apf-flood-" + id;
        var levelName = "apf-" + id;
        await CreatePriorityLevelAsync(levelName, shares: 1, queuing: false);
        await CreateFlowSchemaAsync(levelName, levelName, user);
        var ns = await CreateNamespaceAsync();
        try
        {
            using var client = await UserClientAsync(user);
            await using (var held = HeldCreate.Start(client, $"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"held"}}"""))
            {
                await EventuallyAsync(async () => (await LevelCountsAsync(levelName)).Executing == 1);

                var rejections = 0;
                for (var i = 0; i < 5; i++)
                {
                    using var response = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
                    Assert.Equal((HttpStatusCode)429, response.StatusCode);
                    Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
                    var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    Assert.Equal("Status", (string?)status["kind"]);
                    Assert.Equal("Failure", (string?)status["status"]);
                    Assert.Equal("TooManyRequests", (string?)status["reason"]);
                    Assert.Equal(429, (int)status["code"]!);
                    Assert.True((int)status["details"]!["retryAfterSeconds"]! >= 1);
                    Assert.False(string.IsNullOrEmpty(Header(response, FlowSchemaUidHeader)));
                    rejections++;
                }

                Assert.Equal(5, rejections);
                Assert.True((await LevelCountsAsync(levelName)).Rejected >= 5);
                Assert.Equal(5, (await ScrapeAsync()).Value("apiserver_flowcontrol_rejected_requests_total", ("flow_schema", levelName), ("priority_level", levelName), ("reason", "concurrency-limit")));

                // Everyone else is untouched: the admin (exempt) and a node (system level).
                var (adminStatus, _) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
                Assert.Equal(HttpStatusCode.OK, adminStatus);
                using var node = await UserClientAsync("system:node:apf-" + id, "system:nodes");
                using (var nodeResponse = await node.GetAsync($"/api/v1/namespaces/{ns}/configmaps"))
                {
                    Assert.Equal(HttpStatusCode.OK, nodeResponse.StatusCode);
                }

                Assert.Equal(HttpStatusCode.Created, await held.CompleteAsync());
            }

            using var after = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
        finally
        {
            await DeleteAsync(levelName);
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task Queued_Request_IsAdmittedWhenTheSeatFrees_AndAFullQueueRejects()
    {
        var id = Id();
        var user = "apf-queue-" + id;
        var levelName = "apf-" + id;
        await CreatePriorityLevelAsync(levelName, shares: 1, queuing: true, queues: 1, handSize: 1, queueLengthLimit: 1);
        await CreateFlowSchemaAsync(levelName, levelName, user);
        var ns = await CreateNamespaceAsync();
        try
        {
            using var client = await UserClientAsync(user);
            await using var held = HeldCreate.Start(client, $"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"held"}}""");
            await EventuallyAsync(async () => (await LevelCountsAsync(levelName)).Executing == 1);

            var queued = client.GetAsync($"/api/v1/namespaces/{ns}/configmaps/held");
            await EventuallyAsync(async () => (await LevelCountsAsync(levelName)).Waiting == 1);
            Assert.False(queued.IsCompleted);
            (string, string)[] series = [("flow_schema", levelName), ("priority_level", levelName)];
            var waiting = await ScrapeAsync();
            Assert.Equal(1, waiting.Value("apiserver_flowcontrol_current_inqueue_requests", series));
            Assert.Equal(1, waiting.Value("apiserver_flowcontrol_current_executing_requests", series));
            Assert.True(waiting.Value("apiserver_flowcontrol_nominal_limit_seats", ("priority_level", levelName)) >= 1);

            using (var full = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps"))
            {
                Assert.Equal((HttpStatusCode)429, full.StatusCode);
                Assert.True(full.Headers.Contains("Retry-After"));
            }

            Assert.Equal(1, (await ScrapeAsync()).Value("apiserver_flowcontrol_rejected_requests_total", [.. series, ("reason", "queue-full")]));

            Assert.Equal(HttpStatusCode.Created, await held.CompleteAsync());
            using var admitted = await queued.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            var counts = await LevelCountsAsync(levelName);
            Assert.Equal(0, counts.Waiting);
            Assert.True(counts.Dispatched >= 2);
            var after = await ScrapeAsync();
            Assert.True(after.Value("apiserver_flowcontrol_dispatched_requests_total", series) >= 2);
            Assert.Equal(0, after.Value("apiserver_flowcontrol_current_inqueue_requests", series));
            Assert.Equal(0, after.Value("apiserver_flowcontrol_current_executing_requests", series));
            // The queued GET waited for its seat and then ran; the rejected one did not run.
            Assert.True(after.Value("apiserver_flowcontrol_request_wait_duration_seconds_count", [.. series, ("execute", "true")]) >= 2);
            Assert.Equal(1, after.Value("apiserver_flowcontrol_request_wait_duration_seconds_count", [.. series, ("execute", "false")]));
        }
        finally
        {
            await DeleteAsync(levelName);
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task List_IsEstimatedAtOneSeatPerHundredObjectsOfItsResource_AGetAtOne()
    {
        var id = Id();
        var user = "apf-list-" + id;
        var levelName = "apf-" + id;
        await CreatePriorityLevelAsync(levelName, shares: 100, queuing: true);
        await CreateFlowSchemaAsync(levelName, levelName, user);
        var ns = await CreateNamespaceAsync();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 250), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var (status, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/podtemplates", """{"metadata":{"name":"NAME"},"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}""".Replace("NAME", $"t{i}", StringComparison.Ordinal));
                Assert.Equal(HttpStatusCode.Created, status);
            });
            var (_, all) = await server.GetAsync("/api/v1/podtemplates");
            var stored = all!["items"]!.AsArray().Count;
            Assert.True(stored >= 250, stored.ToString(System.Globalization.CultureInfo.InvariantCulture));

            using var client = await UserClientAsync(user);
            using (var list = await client.GetAsync($"/api/v1/namespaces/{ns}/podtemplates"))
            {
                Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            }

            (string, string)[] series = [("flow_schema", levelName), ("priority_level", levelName)];
            var listed = await ScrapeAsync();
            Assert.Equal(1, listed.Value("apiserver_flowcontrol_work_estimated_seats_count", series));
            // Lists are served from the cache: the estimate counts every object of the resource, as upstream's.
            Assert.Equal(Math.Min(10, (stored + 99) / 100), listed.Value("apiserver_flowcontrol_work_estimated_seats_sum", series));

            using (var get = await client.GetAsync($"/api/v1/namespaces/{ns}/podtemplates/t0"))
            {
                Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            }

            var got = await ScrapeAsync();
            Assert.Equal(2, got.Value("apiserver_flowcontrol_work_estimated_seats_count", series));
            Assert.Equal(Math.Min(10, (stored + 99) / 100) + 1, got.Value("apiserver_flowcontrol_work_estimated_seats_sum", series));
            Assert.Equal(0, got.Value("apiserver_flowcontrol_current_executing_seats", series));
        }
        finally
        {
            await DeleteAsync(levelName);
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task Watches_MoreThanTheLevelsSeats_HoldNoSeat_AndAGetStillSucceeds()
    {
        var id = Id();
        var user = "apf-watch-" + id;
        var levelName = "apf-" + id;
        await CreatePriorityLevelAsync(levelName, shares: 1, queuing: false);
        await CreateFlowSchemaAsync(levelName, levelName, user);
        var ns = await CreateNamespaceAsync();
        var watches = new List<HttpResponseMessage>();
        try
        {
            using var client = await UserClientAsync(user);
            for (var i = 0; i < 4; i++)
            {
                var watch = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps?watch=true", HttpCompletionOption.ResponseHeadersRead);
                watches.Add(watch);
                Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
            }

            Assert.Equal(0, (await LevelCountsAsync(levelName)).Executing);
            using var get = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        finally
        {
            foreach (var watch in watches)
            {
                watch.Dispose();
            }

            await DeleteAsync(levelName);
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    private async Task<Metrics.PrometheusText> ScrapeAsync()
    {
        using var response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Metrics.PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private static string Id() => Guid.NewGuid().ToString("N")[..8];

    private static string Uid(JsonObject obj) => (string)obj["metadata"]!["uid"]!;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "apf-" + Id();
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    private async Task<JsonObject> CreatePriorityLevelAsync(string name, int shares, bool queuing, int queues = 4, int handSize = 2, int queueLengthLimit = 10)
    {
        var response = queuing
            ? new JsonObject { ["type"] = "Queue", ["queuing"] = new JsonObject { ["queues"] = queues, ["handSize"] = handSize, ["queueLengthLimit"] = queueLengthLimit } }
            : new JsonObject { ["type"] = "Reject" };
        var level = new JsonObject
        {
            ["apiVersion"] = "flowcontrol.apiserver.k8s.io/v1",
            ["kind"] = "PriorityLevelConfiguration",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["type"] = "Limited",
                ["limited"] = new JsonObject { ["nominalConcurrencyShares"] = shares, ["lendablePercent"] = 0, ["borrowingLimitPercent"] = 0, ["limitResponse"] = response },
            },
        };
        var (status, body) = await server.PostAsync($"{Api}/prioritylevelconfigurations", level.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, status);
        return body!;
    }

    private async Task<JsonObject> CreateFlowSchemaAsync(string name, string level, string user)
    {
        var schema = $$$"""
            {"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"{{{name}}}"},
             "spec":{"priorityLevelConfiguration":{"name":"{{{level}}}"},"matchingPrecedence":300,"distinguisherMethod":{"type":"ByUser"},
              "rules":[{"subjects":[{"kind":"User","user":{"name":"{{{user}}}"}}],
                        "resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"namespaces":["*"],"clusterScope":true}],
                        "nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}}
            """;
        var (status, body) = await server.PostAsync($"{Api}/flowschemas", schema);
        Assert.Equal(HttpStatusCode.Created, status);
        return body!;
    }

    private async Task DeleteAsync(string name)
    {
        await server.SendAsync(HttpMethod.Delete, $"{Api}/flowschemas/{name}");
        await server.SendAsync(HttpMethod.Delete, $"{Api}/prioritylevelconfigurations/{name}");
        foreach (var binding in _bindings)
        {
            await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{binding}");
        }
    }

    /// <summary>
    /// Deletes a suggested level and waits until upkeep has put it back: that pass began after every change made
    /// before this call, so it has seen them all.
    /// </summary>
    private async Task AwaitMaintenancePassAsync()
    {
        var (deleted, _) = await server.SendAsync(HttpMethod.Delete, $"{Api}/prioritylevelconfigurations/workload-high");
        Assert.Equal(HttpStatusCode.OK, deleted);
        await EventuallyAsync(async () => (await server.GetAsync($"{Api}/prioritylevelconfigurations/workload-high")).Status == HttpStatusCode.OK);
    }

    private async Task<(int Waiting, int Executing, long Dispatched, long Rejected)> LevelCountsAsync(string level)
    {
        var text = await server.Client.GetStringAsync("/debug/api_priority_and_fairness/dump_priority_levels");
        var row = text.Split('\n').Select(l => l.Split(',').Select(c => c.Trim()).ToArray()).Single(r => r[0] == level);
        return (int.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture), int.Parse(row[5], System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(row[6], System.Globalization.CultureInfo.InvariantCulture), long.Parse(row[7], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Polls a condition a bounded number of times (the server acts on each request; no fixed sleeps decide the outcome).</summary>
    internal static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the condition did not hold within 300 attempts");
    }

    /// <summary>A client of <paramref name="user"/>, bound to cluster-admin: these tests are about classification, not access.</summary>
    private async Task<HttpClient> UserClientAsync(string user, params string[] groups)
    {
        var binding = "apf-test-" + user.Replace(':', '-');
        if (!_bindings.Contains(binding))
        {
            var (status, _) = await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", $$$"""
                {"metadata":{"name":"{{{binding}}}"},"subjects":[{"kind":"User","name":"{{{user}}}","apiGroup":"rbac.authorization.k8s.io"}],
                 "roleRef":{"kind":"ClusterRole","name":"cluster-admin","apiGroup":"rbac.authorization.k8s.io"}}
                """);
            Assert.True(status is HttpStatusCode.Created or HttpStatusCode.Conflict, status.ToString());
            _bindings.Add(binding);
        }

        return UserClient(user, groups);
    }

    private HttpClient UserClient(string user, params string[] groups)
    {
        var (certificatePem, keyPem) = server.Host.Certificates.IssueClientCertificate(user, groups, TimeProvider.System);
        using var pem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var ca = X509Certificate2.CreateFromPem(server.Host.Certificates.CaPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, serverCertificate, _, _) =>
        {
            if (serverCertificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(serverCertificate));
        };
        return new HttpClient(handler) { BaseAddress = server.Host.Url, Timeout = TimeSpan.FromSeconds(60) };
    }
}
