using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Upstream's default ClusterRoles and ClusterRoleBindings: the superuser role, the user-facing admin/edit/view roles
/// filled by aggregation, the discovery, basic-user and public-info roles every user holds, and the roles of the
/// node, scheduler, controller manager, proxy and DNS.
/// </summary>
internal static class BootstrapPolicy
{
    public const string AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate";
    public const string AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
    public const string AggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
    public const string AggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";
    public const string NodesGroup = Security.ComponentIdentities.NodesGroup;
    public const string NodeUserPrefix = Security.ComponentIdentities.NodeUserPrefix;
    public const string MastersGroup = "system:masters";
    public const string Scheduler = Security.ComponentIdentities.Scheduler;
    public const string ControllerManager = Security.ComponentIdentities.ControllerManager;
    public const string Proxy = Security.ComponentIdentities.Proxy;
    public const string Dns = Security.ComponentIdentities.Dns;

    /// <summary>
    /// What the built-in controllers do under the controller manager's one identity (upstream grants it per controller
    /// through system:controller:* roles when each runs under its own service account): read, change and delete any
    /// object (the garbage collector and namespace controller touch every kind), create only what controllers make, and
    /// escalate ClusterRoles (aggregation writes rules it does not hold).
    /// </summary>
    public const string Controllers = "system:kube-controller-manager:controllers";

    public const string NodeBootstrapper = "system:node-bootstrapper";
    public const string NodeClientApproval = "system:certificates.k8s.io:certificatesigningrequests:nodeclient";
    public const string SelfNodeClientApproval = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient";
    public const string NodeServices = "kubesharp:node-services";

    /// <summary>What a node's network policy enforcement reads (as kube-router's role): policies, pods and namespaces.</summary>
    public const string NetworkPolicies = "kubesharp:network-policies";

    /// <summary>The group of the node tokens <c>kubesharp token create</c> makes by default.</summary>
    public const string NodeTokenGroup = Kubesharp.ApiMachinery.BootstrapTokens.BootstrapToken.DefaultNodeTokenGroup;

    private static readonly string[] Read = ["get", "list", "watch"];
    private static readonly string[] Write = ["create", "delete", "deletecollection", "patch", "update"];
    private static readonly string[] ReadWrite = [.. Read, .. Write];

    /// <summary>What a kubelet may do besides what the node authorizer decides from the pods bound to it.</summary>
    public static IReadOnlyList<JsonObject> NodeRules =>
    [
        Rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        Rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
        Rule(Read, [""], ["services"]),
        Rule(["create", "get", "list", "watch"], [""], ["nodes"]),
        Rule(["update", "patch"], [""], ["nodes/status"]),
        Rule(["update", "patch"], [""], ["nodes"]),
        Rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"]),
        Rule(Read, [""], ["pods"]),
        Rule(["create", "delete"], [""], ["pods"]),
        Rule(["update", "patch"], [""], ["pods/status"]),
        Rule(["create"], [""], ["pods/eviction"]),
        Rule(["get"], [""], ["secrets", "configmaps", "persistentvolumeclaims", "persistentvolumes", "endpoints"]),
        Rule(["update", "patch"], [""], ["persistentvolumeclaims/status"]),
        Rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        Rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
        Rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
        Rule(["create"], [""], ["serviceaccounts/token"]),
        Rule(Read, ["storage.k8s.io"], ["csidrivers"]),
        Rule(["get", "create", "update", "patch", "delete"], ["storage.k8s.io"], ["csinodes"]),
        Rule(Read, ["node.k8s.io"], ["runtimeclasses"]),
        Rule(Read, ["discovery.k8s.io"], ["endpointslices"]),
    ];

    public static IReadOnlyList<JsonObject> ClusterRoles =>
    [
        Role("cluster-admin", null, null, Rule(["*"], ["*"], ["*"]), Urls(["*"], ["*"])),
        Role("system:discovery", null, null, Urls(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])),
        Role("system:public-info-viewer", null, null, Urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])),
        Role("system:monitoring", null, null, Urls(["get"], ["/healthz", "/healthz/*", "/livez", "/livez/*", "/readyz", "/readyz/*", "/metrics", "/metrics/slis"])),
        Role("system:basic-user", null, null,
            Rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            Rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            // Answered with only the deletions the caller may get, like a rules review: safe for everyone.
            Rule(["list"], [History.HistoryEndpoint.Group], [History.HistoryEndpoint.DeletedObjects])),
        Role("admin", null, [AggregateToAdmin]),
        Role("edit", AggregateToAdmin, [AggregateToEdit]),
        Role("view", AggregateToEdit, [AggregateToView]),
        Role("system:aggregate-to-admin", AggregateToAdmin, null,
            Rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            Rule(ReadWrite, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"])),
        Role("system:aggregate-to-edit", AggregateToEdit, null,
            Rule(["impersonate"], [""], ["serviceaccounts"]),
            Rule(Write, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
            Rule(["create"], [""], ["pods/eviction"]),
            Rule(Write, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"]),
            Rule(["create"], [""], ["serviceaccounts/token"]),
            Rule(Write, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
            Rule(Write, ["autoscaling"], ["horizontalpodautoscalers"]),
            Rule(Write, ["batch"], ["jobs", "cronjobs"]),
            Rule(Write, ["policy"], ["poddisruptionbudgets"]),
            Rule(Write, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
            Rule(ReadWrite, ["coordination.k8s.io"], ["leases"]),
            Rule(Read, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"])),
        Role("system:aggregate-to-view", AggregateToView, null,
            Rule(Read, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
            Rule(Read, [""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
            Rule(Read, [""], ["namespaces"]),
            Rule(Read, ["discovery.k8s.io"], ["endpointslices"]),
            Rule(Read, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status"]),
            Rule(Read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            Rule(Read, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
            Rule(Read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            Rule(Read, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
            Rule(Read, ["events.k8s.io"], ["events"])),
        Role("system:node", null, null, [.. NodeRules]),
        Role("system:node-proxier", null, null,
            Rule(["list", "watch"], [""], ["services", "endpoints"]),
            Rule(Read, [""], ["nodes"]),
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            Rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])),
        Role("system:kube-dns", null, null,
            Rule(["list", "watch"], [""], ["endpoints", "services"]),
            Rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])),
        Role("system:kube-scheduler", null, null,
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            Rule(["create"], ["coordination.k8s.io"], ["leases"]),
            Rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
            Rule(Read, [""], ["nodes", "namespaces", "pods", "persistentvolumeclaims", "persistentvolumes", "replicationcontrollers", "services", "configmaps"]),
            Rule(["delete"], [""], ["pods"]),
            // Beyond upstream: the why-pending verdict (kubesharp explain) is an annotation the scheduler patches on.
            Rule(["patch"], [""], ["pods"]),
            Rule(["create"], [""], ["bindings", "pods/binding"]),
            Rule(["patch", "update"], [""], ["pods/status"]),
            Rule(Read, ["apps"], ["replicasets", "statefulsets"]),
            Rule(Read, ["policy"], ["poddisruptionbudgets"]),
            // Preemption compares priorities this scheduler reads from the PriorityClasses themselves.
            Rule(Read, ["scheduling.k8s.io"], ["priorityclasses"]),
            Rule(Read, ["storage.k8s.io"], ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"]),
            Rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            Rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])),
        // What the scheduler's VolumeBinding writes: the node chosen for claims that wait for their first consumer, and
        // volumes pre-bound to those claims.
        Role("system:volume-scheduler", null, null,
            Rule(["get", "list", "watch", "update", "patch"], [""], ["persistentvolumes"]),
            Rule(Read, ["storage.k8s.io"], ["storageclasses"]),
            Rule(["get", "list", "watch", "update", "patch"], [""], ["persistentvolumeclaims"])),
        Role("system:kube-controller-manager", null, null,
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            Rule(["create"], ["coordination.k8s.io"], ["leases"]),
            Rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-controller-manager"]),
            Rule(["create"], [""], ["secrets", "serviceaccounts"]),
            Rule(["delete"], [""], ["secrets"]),
            Rule(["get"], [""], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            Rule(["update"], [""], ["secrets", "serviceaccounts"]),
            Rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            Rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            Rule(["list", "watch"], ["*"], ["*"]),
            Rule(["create"], [""], ["serviceaccounts/token"])),
        Role(Controllers, null, null,
            Rule(["get", "list", "watch", "update", "patch", "delete", "deletecollection"], ["*"], ["*"]),
            Rule(["create"], [""], ["pods", "pods/eviction", "configmaps", "serviceaccounts", "serviceaccounts/token", "persistentvolumeclaims", "persistentvolumes", "endpoints", "events"]),
            Rule(["create"], ["apps"], ["replicasets", "controllerrevisions"]),
            Rule(["create"], ["batch"], ["jobs"]),
            Rule(["create"], ["discovery.k8s.io"], ["endpointslices"]),
            Rule(["create"], ["events.k8s.io"], ["events"]),
            Rule(["create"], ["storage.k8s.io"], ["volumeattachments"]),
            Rule(["escalate"], ["rbac.authorization.k8s.io"], ["clusterroles"])),
        // TLS bootstrapping, as upstream: who may ask for certificates, and whose kubelet client requests are approved
        // without a human (new nodes through a bootstrap token, and a node renewing its own).
        Role(NodeBootstrapper, null, null, Rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"])),
        Role(NodeClientApproval, null, null, Rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])),
        Role(SelfNodeClientApproval, null, null, Rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])),
        // What a joined node's service proxy and cluster DNS read under the node's own identity.
        Role(NodeServices, null, null,
            Rule(["list", "watch"], [""], ["endpoints", "services", "namespaces"]),
            Rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])),
        Role(NetworkPolicies, null, null,
            Rule(["list", "watch"], [""], ["pods", "namespaces"]),
            Rule(["list", "watch"], ["networking.k8s.io"], ["networkpolicies"])),
        // k3s's CoreDNS role: cluster DNS answers for services, their endpoints and pods.
        Role(Dns, null, null,
            Rule(["list", "watch"], [""], ["endpoints", "services", "pods", "namespaces"]),
            Rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])),
        // What an extension API server behind the aggregator is bound to, to delegate authentication and authorization.
        Role("system:auth-delegator", null, null,
            Rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            Rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])),
        // k3s's local-path provisioner role, for the nodes' provisioner: it answers claims with PersistentVolumes.
        Role(Security.ComponentIdentities.LocalPathProvisioner, null, null,
            Rule(Read, [""], ["nodes", "persistentvolumeclaims", "configmaps"]),
            Rule(["get", "list", "watch", "create", "patch", "update", "delete"], [""], ["persistentvolumes"]),
            Rule(["create", "patch"], ["", "events.k8s.io"], ["events"]),
            Rule(Read, ["storage.k8s.io"], ["storageclasses"])),
        // upstream's external-attacher role, for the nodes' CSI attacher: it publishes volumes to nodes and says so on
        // their VolumeAttachments.
        Role(Security.ComponentIdentities.CsiAttacher, null, null,
            Rule(["get", "list", "watch"], [""], ["persistentvolumes"]),
            Rule(["get", "list", "watch", "update", "patch"], ["storage.k8s.io"], ["volumeattachments"]),
            Rule(["update", "patch"], ["storage.k8s.io"], ["volumeattachments/status"]),
            Rule(["get", "list", "watch"], ["storage.k8s.io"], ["csinodes"])),
    ];

    public static IReadOnlyList<JsonObject> ClusterRoleBindings =>
    [
        Binding("cluster-admin", Subject("Group", MastersGroup)),
        Binding("system:discovery", Subject("Group", "system:authenticated")),
        Binding("system:basic-user", Subject("Group", "system:authenticated")),
        Binding("system:public-info-viewer", Subject("Group", "system:authenticated"), Subject("Group", "system:unauthenticated")),
        Binding("system:monitoring", Subject("Group", "system:monitoring")),
        // Nodes get their rights from the node authorizer, which knows which pods they run; the binding stays empty.
        Binding("system:node"),
        Binding("system:node-proxier", Subject("User", Proxy)),
        Binding("system:kube-dns", ServiceAccount("kube-system", "kube-dns")),
        Binding("system:kube-scheduler", Subject("User", Scheduler)),
        Binding("system:volume-scheduler", Subject("User", Scheduler)),
        Binding("system:kube-controller-manager", Subject("User", ControllerManager)),
        Binding(Controllers, Subject("User", ControllerManager)),
        Binding(Dns, Subject("User", Dns)),
        Binding(Security.ComponentIdentities.LocalPathProvisioner, Subject("User", Security.ComponentIdentities.LocalPathProvisioner)),
        Binding(Security.ComponentIdentities.CsiAttacher, Subject("User", Security.ComponentIdentities.CsiAttacher)),
        // kubeadm's bindings: the node tokens `kubesharp token create` makes may file node client requests, which are
        // approved for them; every node may renew its own certificate.
        Binding("kubesharp:kubelet-bootstrap", NodeBootstrapper, Subject("Group", NodeTokenGroup)),
        Binding("kubesharp:node-autoapprove-bootstrap", NodeClientApproval, Subject("Group", NodeTokenGroup)),
        Binding("kubesharp:node-autoapprove-certificate-rotation", SelfNodeClientApproval, Subject("Group", NodesGroup)),
        Binding("kubesharp:node-services", NodeServices, Subject("Group", NodesGroup)),
        // Enforcement runs beside the service proxy, under its identity: the server's system:kube-proxy, a joined node's own.
        Binding(NetworkPolicies, Subject("User", Proxy), Subject("Group", NodesGroup)),
    ];

    public static JsonObject Rule(string[] verbs, string[] groups, string[] resources, string[]? names = null)
    {
        var rule = new JsonObject { ["verbs"] = Strings(verbs), ["apiGroups"] = Strings(groups), ["resources"] = Strings(resources) };
        if (names is not null)
        {
            rule["resourceNames"] = Strings(names);
        }

        return rule;
    }

    private static JsonObject Urls(string[] verbs, string[] urls) => new() { ["verbs"] = Strings(verbs), ["nonResourceURLs"] = Strings(urls) };

    private static JsonObject Role(string name, string? aggregateTo, string[]? aggregateFrom, params JsonObject[] rules)
    {
        var labels = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" };
        if (aggregateTo is not null)
        {
            labels[aggregateTo] = "true";
        }

        var role = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "ClusterRole",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels, ["annotations"] = new JsonObject { [AutoUpdateAnnotation] = "true" } },
        };
        if (aggregateFrom is not null)
        {
            role["aggregationRule"] = new JsonObject
            {
                ["clusterRoleSelectors"] = new JsonArray([.. aggregateFrom.Select(label => (JsonNode)new JsonObject { ["matchLabels"] = new JsonObject { [label] = "true" } })]),
            };
            role["rules"] = new JsonArray();
        }
        else
        {
            role["rules"] = new JsonArray([.. rules.Select(r => (JsonNode)r.DeepClone())]);
        }

        return role;
    }

    private static JsonObject Binding(string name, params JsonObject[] subjects) => Binding(name, name, subjects);

    private static JsonObject Binding(string name, string role, params JsonObject[] subjects)
    {
        var binding = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "ClusterRoleBinding",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" },
                ["annotations"] = new JsonObject { [AutoUpdateAnnotation] = "true" },
            },
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
        };
        if (subjects.Length > 0)
        {
            binding["subjects"] = new JsonArray([.. subjects]);
        }

        return binding;
    }

    private static JsonObject Subject(string kind, string name) => new() { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = kind, ["name"] = name };

    private static JsonObject ServiceAccount(string @namespace, string name) => new() { ["kind"] = "ServiceAccount", ["name"] = name, ["namespace"] = @namespace };

    private static JsonArray Strings(string[] values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
}
