using Kubesharp.ApiServer.Audit;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.IntegrationTests.Audit;

/// <summary>Upstream's rule matching: the first matching rule wins; users, groups, verbs, resources, names, namespaces, URLs.</summary>
public sealed class AuditPolicyTests
{
    private static readonly AuditPolicy Policy = AuditPolicy.Parse("""
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: [RequestReceived]
        rules:
          - level: None
            users: ["system:kube-proxy"]
            verbs: [watch]
          - level: None
            userGroups: ["system:nodes"]
            resources: [{group: "", resources: [pods/status]}]
          - level: RequestResponse
            resources: [{group: "", resources: [configmaps], resourceNames: [special]}]
            omitStages: [ResponseStarted]
            omitManagedFields: true
          - level: Request
            resources: [{group: apps, resources: ["*/scale"]}]
          - level: Request
            resources: [{group: batch}]
          - level: Metadata
            namespaces: [kube-system]
          - level: Metadata
            nonResourceURLs: ["/healthz*", "/version"]
          - level: None
            resources: [{group: "", resources: ["pods/*"]}]
        """);

    private static readonly UserInfo Alice = new("alice", ["system:authenticated"]);

    [Theory]
    [InlineData("system:kube-proxy", "watch", "", "services", "", "", "", "None")]
    [InlineData("system:kube-proxy", "list", "", "services", "", "", "", "None")]
    [InlineData("alice", "get", "", "configmaps", "", "default", "special", "RequestResponse")]
    [InlineData("alice", "get", "", "configmaps", "", "default", "other", "None")]
    [InlineData("alice", "list", "", "configmaps", "", "default", "", "None")]
    [InlineData("alice", "update", "apps", "deployments", "scale", "default", "web", "Request")]
    [InlineData("alice", "update", "apps", "deployments", "", "default", "web", "None")]
    [InlineData("alice", "create", "batch", "jobs", "", "default", "", "Request")]
    [InlineData("alice", "get", "", "secrets", "", "kube-system", "x", "Metadata")]
    [InlineData("alice", "get", "", "pods", "log", "default", "p", "None")]
    public void Evaluate_ResourceRequests_FirstMatchingRuleWins(string user, string verb, string group, string resource, string subresource, string ns, string name, string level)
    {
        var info = new RequestInfo(true, verb, "/api/v1/whatever", group, resource, subresource, ns, name);
        Assert.Equal(level, Policy.Evaluate(new UserInfo(user, ["system:authenticated"]), info).Level.ToString());
    }

    [Fact]
    public void Evaluate_GroupsUrlsAndStages()
    {
        var node = new UserInfo("system:node:n1", ["system:nodes", "system:authenticated"]);
        Assert.Equal(AuditLevel.None, Policy.Evaluate(node, new RequestInfo(true, "patch", "/api/v1/namespaces/default/pods/p/status", "", "pods", "status", "default", "p")).Level);
        Assert.Equal(AuditLevel.Metadata, Policy.Evaluate(Alice, new RequestInfo(false, "get", "/healthz/ping")).Level);
        Assert.Equal(AuditLevel.Metadata, Policy.Evaluate(Alice, new RequestInfo(false, "get", "/version")).Level);
        Assert.Equal(AuditLevel.None, Policy.Evaluate(Alice, new RequestInfo(false, "get", "/metrics")).Level);

        var special = Policy.Evaluate(Alice, new RequestInfo(true, "get", "/api/v1/namespaces/default/configmaps/special", "", "configmaps", "", "default", "special"));
        Assert.True(special.OmitManagedFields);
        Assert.Equal(new[] { AuditStage.RequestReceived, AuditStage.ResponseStarted }, special.OmitStages.Order());
        var jobs = Policy.Evaluate(Alice, new RequestInfo(true, "create", "/apis/batch/v1/namespaces/default/jobs", "batch", "jobs", "", "default", ""));
        Assert.False(jobs.OmitManagedFields);
        Assert.Equal(new[] { AuditStage.RequestReceived }, jobs.OmitStages);
    }

    [Theory]
    [InlineData("kind: Policy\napiVersion: audit.k8s.io/v1beta9\n", "must be kind Policy of apiVersion audit.k8s.io/v1")]
    [InlineData("kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n- level: Everything\n", "rules[0].level: Unsupported value \"Everything\"")]
    [InlineData("kind: Policy\napiVersion: audit.k8s.io/v1\nomitStages: [Done]\n", "omitStages: Unsupported value \"Done\"")]
    [InlineData("kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n- level: Metadata\n  nonResourceURLs: [/x]\n  namespaces: [a]\n", "both regular resources and non-resource URLs")]
    public void Parse_InvalidPolicies_RefusedWithTheField(string text, string message)
    {
        Assert.Contains(message, Assert.Throws<FormatException>(() => AuditPolicy.Parse(text)).Message, StringComparison.Ordinal);
    }
}
