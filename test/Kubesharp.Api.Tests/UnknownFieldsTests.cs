using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.Tests;

public sealed class UnknownFieldsTests
{
    [Fact]
    public void Find_DeploymentWithTypos_ReportsEveryPath()
    {
        var deployment = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labelz":{}},
             "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","imagePullPolice":"Always"}]}}},
             "extra":true}
            """);

        var unknown = UnknownFields.Find(deployment, ApiSchema.ForKind(new GroupVersionKind("apps", "v1", "Deployment"))!);

        Assert.Equal(["metadata.labelz", "spec.template.spec.containers[1].imagePullPolice", "extra"], unknown);
    }

    [Fact]
    public void Find_KnownFieldsAndFreeFormJson_ReportsNothing()
    {
        var pod = JsonNode.Parse("""
            {"metadata":{"labels":{"a":"b"},"managedFields":[{"fieldsV1":{"f:anything":{}}}]},
             "spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1"}}}]}}
            """);

        Assert.Empty(UnknownFields.Find(pod, ApiSchema.Definitions["io.k8s.api.core.v1.Pod"]));
    }
}
