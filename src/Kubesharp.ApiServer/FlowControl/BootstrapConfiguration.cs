using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Upstream's mandatory and suggested flowcontrol.apiserver.k8s.io/v1 objects: the same names, precedences, rules,
/// shares, lendable percentages and queuing parameters. Mandatory ones always get their spec back; suggested
/// ones only while their auto-update annotation says so.
/// </summary>
internal static class BootstrapConfiguration
{
    public const string AutoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec";
    public const string ExemptName = "exempt";
    public const string CatchAllName = "catch-all";

    private const string Masters = "system:masters";
    private const string Nodes = "system:nodes";
    private const string Authenticated = "system:authenticated";
    private const string Unauthenticated = "system:unauthenticated";
    private const string ServiceAccounts = "system:serviceaccounts";
    private const string ControllerManager = "system:kube-controller-manager";
    private const string Scheduler = "system:kube-scheduler";

    public static IReadOnlyList<JsonObject> MandatoryPriorityLevels =>
    [
        PriorityLevel(CatchAllName, Limited(5, 0, null)),
        PriorityLevel(ExemptName, new JsonObject
        {
            ["type"] = "Exempt",
            ["exempt"] = new JsonObject { ["nominalConcurrencyShares"] = 0, ["lendablePercent"] = 0 },
        }),
    ];

    public static IReadOnlyList<JsonObject> SuggestedPriorityLevels =>
    [
        PriorityLevel("system", Limited(30, 33, (64, 6, 50))),
        PriorityLevel("node-high", Limited(40, 25, (64, 6, 50))),
        PriorityLevel("leader-election", Limited(10, 0, (16, 4, 50))),
        PriorityLevel("workload-high", Limited(40, 50, (128, 6, 50))),
        PriorityLevel("workload-low", Limited(100, 90, (128, 6, 50))),
        PriorityLevel("global-default", Limited(20, 50, (128, 6, 50))),
    ];

    public static IReadOnlyList<JsonObject> MandatoryFlowSchemas =>
    [
        FlowSchema(ExemptName, ExemptName, 1, null, Rule([Group(Masters)], [Everything()], [AnyPath()])),
        FlowSchema(CatchAllName, CatchAllName, 10000, "ByUser", Rule([Group(Unauthenticated), Group(Authenticated)], [Everything()], [AnyPath()])),
    ];

    public static IReadOnlyList<JsonObject> SuggestedFlowSchemas =>
    [
        FlowSchema("probes", ExemptName, 2, null, Rule([Group(Unauthenticated), Group(Authenticated)], [], [Paths(["get"], ["/healthz", "/readyz", "/livez"])])),
        FlowSchema("system-leader-election", "leader-election", 100, "ByUser", Rule(
            [User(ControllerManager), User(Scheduler), KubeSystemServiceAccount("*")],
            [Resources(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], ["*"], clusterScope: false)],
            [])),
        FlowSchema("endpoint-controller", "workload-high", 150, "ByUser", Rule(
            [User(ControllerManager), KubeSystemServiceAccount("endpoint-controller"), KubeSystemServiceAccount("endpointslicemirroring-controller")],
            [Resources(["get", "create", "update"], [string.Empty], ["endpoints"], ["*"], clusterScope: false)],
            [])),
        FlowSchema("workload-leader-election", "leader-election", 200, "ByUser", Rule(
            [KubeSystemServiceAccount("*")],
            [
                Resources(["get", "create", "update"], [string.Empty], ["endpoints", "configmaps"], ["*"], clusterScope: false),
                Resources(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], ["*"], clusterScope: false),
            ],
            [])),
        FlowSchema("system-node-high", "node-high", 400, "ByUser", Rule(
            [Group(Nodes)],
            [
                Resources(["*"], [string.Empty], ["nodes", "nodes/status"], ["*"], clusterScope: true),
                Resources(["*"], ["coordination.k8s.io"], ["leases"], ["*"], clusterScope: false),
            ],
            [])),
        FlowSchema("system-nodes", "system", 500, "ByUser", Rule([Group(Nodes)], [Everything()], [AnyPath()])),
        FlowSchema("kube-controller-manager", "workload-high", 800, "ByNamespace", Rule([User(ControllerManager)], [Everything()], [AnyPath()])),
        FlowSchema("kube-scheduler", "workload-high", 800, "ByNamespace", Rule([User(Scheduler)], [Everything()], [AnyPath()])),
        FlowSchema("kube-system-service-accounts", "workload-high", 900, "ByNamespace", Rule([KubeSystemServiceAccount("*")], [Everything()], [AnyPath()])),
        FlowSchema("service-accounts", "workload-low", 9000, "ByUser", Rule([Group(ServiceAccounts)], [Everything()], [AnyPath()])),
        FlowSchema("global-default", "global-default", 9900, "ByUser", Rule([Group(Unauthenticated), Group(Authenticated)], [Everything()], [AnyPath()])),
    ];

    private static JsonObject PriorityLevel(string name, JsonObject spec) => new()
    {
        ["apiVersion"] = "flowcontrol.apiserver.k8s.io/v1",
        ["kind"] = "PriorityLevelConfiguration",
        ["metadata"] = Metadata(name),
        ["spec"] = spec,
    };

    private static JsonObject Limited(int shares, int lendablePercent, (int Queues, int HandSize, int QueueLengthLimit)? queuing)
    {
        var response = new JsonObject { ["type"] = queuing is null ? "Reject" : "Queue" };
        if (queuing is { } q)
        {
            response["queuing"] = new JsonObject { ["queues"] = q.Queues, ["handSize"] = q.HandSize, ["queueLengthLimit"] = q.QueueLengthLimit };
        }

        return new JsonObject
        {
            ["type"] = "Limited",
            ["limited"] = new JsonObject
            {
                ["nominalConcurrencyShares"] = shares,
                ["lendablePercent"] = lendablePercent,
                ["limitResponse"] = response,
            },
        };
    }

    private static JsonObject FlowSchema(string name, string priorityLevel, int precedence, string? distinguisher, JsonObject rule)
    {
        var spec = new JsonObject
        {
            ["priorityLevelConfiguration"] = new JsonObject { ["name"] = priorityLevel },
            ["matchingPrecedence"] = precedence,
        };
        if (distinguisher is not null)
        {
            spec["distinguisherMethod"] = new JsonObject { ["type"] = distinguisher };
        }

        spec["rules"] = new JsonArray(rule);
        return new JsonObject
        {
            ["apiVersion"] = "flowcontrol.apiserver.k8s.io/v1",
            ["kind"] = "FlowSchema",
            ["metadata"] = Metadata(name),
            ["spec"] = spec,
        };
    }

    private static JsonObject Metadata(string name) => new()
    {
        ["name"] = name,
        ["annotations"] = new JsonObject { [AutoUpdateAnnotation] = "true" },
    };

    private static JsonObject Rule(JsonNode[] subjects, JsonNode[] resourceRules, JsonNode[] nonResourceRules)
    {
        var rule = new JsonObject { ["subjects"] = new JsonArray(subjects) };
        if (resourceRules.Length > 0)
        {
            rule["resourceRules"] = new JsonArray(resourceRules);
        }

        if (nonResourceRules.Length > 0)
        {
            rule["nonResourceRules"] = new JsonArray(nonResourceRules);
        }

        return rule;
    }

    private static JsonObject Group(string name) => new() { ["kind"] = "Group", ["group"] = new JsonObject { ["name"] = name } };

    private static JsonObject User(string name) => new() { ["kind"] = "User", ["user"] = new JsonObject { ["name"] = name } };

    private static JsonObject KubeSystemServiceAccount(string name) =>
        new() { ["kind"] = "ServiceAccount", ["serviceAccount"] = new JsonObject { ["namespace"] = "kube-system", ["name"] = name } };

    private static JsonObject Everything() => Resources(["*"], ["*"], ["*"], ["*"], clusterScope: true);

    private static JsonObject AnyPath() => Paths(["*"], ["*"]);

    private static JsonObject Resources(string[] verbs, string[] groups, string[] resources, string[] namespaces, bool clusterScope)
    {
        var rule = new JsonObject
        {
            ["verbs"] = Strings(verbs),
            ["apiGroups"] = Strings(groups),
            ["resources"] = Strings(resources),
        };
        if (clusterScope)
        {
            rule["clusterScope"] = true;
        }

        rule["namespaces"] = Strings(namespaces);
        return rule;
    }

    private static JsonObject Paths(string[] verbs, string[] urls) => new() { ["verbs"] = Strings(verbs), ["nonResourceURLs"] = Strings(urls) };

    private static JsonArray Strings(string[] values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
