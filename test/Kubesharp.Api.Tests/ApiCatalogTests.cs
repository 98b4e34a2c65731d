using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.Tests;

public sealed class ApiCatalogTests
{
    [Fact]
    public void Find_Pods_HasVerbsSubresourcesShortNamesAndCategories()
    {
        var pods = ApiCatalog.Find("", "v1", "pods");

        Assert.NotNull(pods);
        Assert.True(pods.Namespaced);
        Assert.Equal("Pod", pods.Kind);
        Assert.Equal("PodList", pods.ListKind);
        Assert.Equal("pod", pods.SingularName);
        Assert.Equal(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], pods.Verbs);
        Assert.Equal(["po"], pods.ShortNames);
        Assert.Equal(["all"], pods.Categories);
        Assert.Equal("io.k8s.api.core.v1.Pod", pods.DefinitionName);
        foreach (var sub in new[] { "attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "resize", "status" })
        {
            Assert.True(pods.Subresources.ContainsKey(sub), sub);
        }

        Assert.Equal(["get", "patch", "update"], pods.Subresources["status"]);
        Assert.Equal(["create"], pods.Subresources["binding"]);
        Assert.Equal(["create", "get"], pods.Subresources["exec"]);
        Assert.Equal(["get"], pods.Subresources["log"]);
        Assert.Equal(new GroupVersionKind("policy", "v1", "Eviction"), pods.SubresourceKinds["eviction"]);
    }

    [Fact]
    public void Find_Deployments_HasScaleOfAutoscalingV1()
    {
        var deployments = ApiCatalog.Find("apps", "v1", "deployments")!;

        Assert.Equal(["deploy"], deployments.ShortNames);
        Assert.Equal(new GroupVersionKind("autoscaling", "v1", "Scale"), deployments.SubresourceKinds["scale"]);
        Assert.Equal(["get", "patch", "update"], deployments.Subresources["scale"]);
        Assert.Equal("deployments.apps", deployments.GroupResource);
    }

    [Fact]
    public void Find_ClusterScopedResources_AreNotNamespaced()
    {
        Assert.False(ApiCatalog.Find("", "v1", "namespaces")!.Namespaced);
        Assert.False(ApiCatalog.Find("", "v1", "nodes")!.Namespaced);
        Assert.False(ApiCatalog.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!.Namespaced);
        Assert.True(ApiCatalog.Find("", "v1", "namespaces")!.Subresources.ContainsKey("finalize"));
        Assert.Equal(["crd", "crds"], ApiCatalog.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!.ShortNames);
    }

    [Fact]
    public void Find_CreateOnlyReview_HasOnlyCreate()
    {
        Assert.Equal(["create"], ApiCatalog.Find("authentication.k8s.io", "v1", "tokenreviews")!.Verbs);
    }

    [Fact]
    public void Groups_CoverTheServedGaGroupVersions()
    {
        string[] expected =
        [
            "v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "networking.k8s.io/v1",
            "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
            "policy/v1", "storage.k8s.io/v1", "scheduling.k8s.io/v1", "node.k8s.io/v1", "certificates.k8s.io/v1",
            "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1",
            "flowcontrol.apiserver.k8s.io/v1", "resource.k8s.io/v1", "authentication.k8s.io/v1", "authorization.k8s.io/v1",
        ];
        var served = ApiCatalog.Resources.Select(r => r.ApiVersion).ToHashSet();

        Assert.Subset(served, expected.ToHashSet());
        Assert.DoesNotContain(ApiCatalog.Resources, r => r.Version.Contains("alpha", StringComparison.Ordinal) || r.Version.Contains("beta", StringComparison.Ordinal));
        Assert.Equal("", ApiCatalog.Groups[0].Group);
        Assert.Equal(["v2", "v1"], ApiCatalog.Groups.Single(g => g.Group == "autoscaling").Versions);
    }

    [Fact]
    public void PreferredVersions_Autoscaling_IsV2()
    {
        Assert.Equal("v2", ApiCatalog.PreferredVersions["autoscaling"]);
        Assert.Equal("v1", ApiCatalog.PreferredVersions[""]);
        Assert.Equal("v1", ApiCatalog.PreferredVersions["apps"]);
    }

    [Fact]
    public void FindByKind_Service_ReturnsServices()
    {
        var services = ApiCatalog.FindByKind(new GroupVersionKind("", "v1", "Service"));

        Assert.Equal("services", services?.Resource);
        Assert.Equal(["svc"], services!.ShortNames);
        Assert.Contains("proxy", services.Subresources.Keys);
    }

    [Fact]
    public void Resources_EveryDefinitionExistsInTheSchema()
    {
        foreach (var resource in ApiCatalog.Resources)
        {
            Assert.True(ApiSchema.TryGetDefinition(resource.DefinitionName, out var schema), resource.DefinitionName);
            Assert.Contains(new GroupVersionKind(resource.Group, resource.Version, resource.Kind), schema.GroupVersionKinds);
        }
    }
}
