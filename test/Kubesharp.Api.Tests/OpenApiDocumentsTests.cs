using System.Text.Json.Nodes;
using Kubesharp.Api.OpenApi;

namespace Kubesharp.Api.Tests;

public sealed class OpenApiDocumentsTests
{
    [Fact]
    public void V3Index_ListsEveryGroupVersionWithItsHash()
    {
        var index = JsonNode.Parse(OpenApiDocuments.V3.Index.Json.Span)!;

        var paths = index["paths"]!.AsObject();
        Assert.Contains("api/v1", paths.Select(p => p.Key));
        Assert.Contains("apis/apps/v1", paths.Select(p => p.Key));
        Assert.Contains("apis/autoscaling/v2", paths.Select(p => p.Key));
        foreach (var (path, entry) in paths)
        {
            Assert.True(OpenApiDocuments.V3.TryGet(path, out var document));
            Assert.Equal($"/openapi/v3/{path}?hash={document.Hash}", (string?)entry!["serverRelativeURL"]);
            Assert.Equal(128, document.Hash.Length);
        }
    }

    [Fact]
    public void V3AppsV1_HasKindSchemasWithGroupVersionKindAndMetaTypes()
    {
        Assert.True(OpenApiDocuments.V3.TryGet("/apis/apps/v1", out var document));
        var root = JsonNode.Parse(document.Json.Span)!;

        Assert.Equal("3.0.0", (string?)root["openapi"]);
        var schemas = root["components"]!["schemas"]!;
        var deployment = schemas["io.k8s.api.apps.v1.Deployment"]!;
        var gvk = deployment["x-kubernetes-group-version-kind"]![0]!;
        Assert.Equal("apps", (string?)gvk["group"]);
        Assert.Equal("Deployment", (string?)gvk["kind"]);
        Assert.Equal("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", (string?)deployment["properties"]!["metadata"]!["$ref"]);
        Assert.NotNull(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]);
        Assert.NotNull(schemas["io.k8s.api.core.v1.PodSpec"]);
        Assert.Null(schemas["io.k8s.api.batch.v1.Job"]);
        var containers = schemas["io.k8s.api.core.v1.PodSpec"]!["properties"]!["containers"]!;
        Assert.Equal("merge", (string?)containers["x-kubernetes-patch-strategy"]);
        Assert.Equal("name", (string?)containers["x-kubernetes-patch-merge-key"]);
        Assert.Equal("int-or-string", (string?)schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]!["format"]);
        Assert.Equal(2, schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]!["oneOf"]!.AsArray().Count);
    }

    [Fact]
    public void V3_PatchOperations_DeclareFieldValidationForTheirKind()
    {
        Assert.True(OpenApiDocuments.V3.TryGet("apis/apps/v1", out var document));
        var paths = JsonNode.Parse(document.Json.Span)!["paths"]!.AsObject();

        // What kubectl checks before it relies on server-side field validation.
        var patch = paths.Select(p => p.Value!["patch"]).OfType<JsonNode>()
            .Single(op => (string?)op["x-kubernetes-group-version-kind"]!["kind"] == "Deployment" && (string?)op["x-kubernetes-action"] == "patch" &&
                          op["requestBody"]!["content"]!["application/apply-patch+yaml"] is not null &&
                          paths.Single(p => p.Value!["patch"] == op).Key == "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
        Assert.Contains(patch["parameters"]!.AsArray(), p => (string?)p!["name"] == "fieldValidation" && (string?)p["in"] == "query");
        Assert.NotNull(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]!["put"]);
        Assert.Equal("list", (string?)paths["/apis/apps/v1/namespaces/{namespace}/deployments"]!["get"]!["x-kubernetes-action"]);
    }

    [Fact]
    public void V3_Documents_CarryNoDescriptions()
    {
        foreach (var (_, document) in OpenApiDocuments.V3.GroupVersions)
        {
            var schemas = JsonNode.Parse(document.Json.Span)!["components"]!.ToJsonString();
            Assert.DoesNotContain("\"description\":\"", schemas, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void V2_HasEveryDefinitionAndResourcePaths()
    {
        var root = JsonNode.Parse(OpenApiDocuments.V2.Json.Span)!;

        Assert.Equal("2.0", (string?)root["swagger"]);
        Assert.Equal(ApiSchema.Definitions.Count, root["definitions"]!.AsObject().Count);
        var pod = root["definitions"]!["io.k8s.api.core.v1.Pod"]!;
        Assert.Equal("#/definitions/io.k8s.api.core.v1.PodSpec", (string?)pod["properties"]!["spec"]!["$ref"]);
        var podPatch = root["paths"]!["/api/v1/namespaces/{namespace}/pods/{name}"]!["patch"]!;
        Assert.Equal("Pod", (string?)podPatch["x-kubernetes-group-version-kind"]!["kind"]);
        Assert.Contains(podPatch["parameters"]!.AsArray(), p => (string?)p!["name"] == "fieldValidation");
        Assert.Equal("string", (string?)root["definitions"]!["io.k8s.apimachinery.pkg.api.resource.Quantity"]!["type"]);
        Assert.DoesNotContain("\"description\":\"", root["definitions"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void BuildV3_Twice_GivesTheSameBytes()
    {
        var again = OpenApiDocuments.BuildV3(ApiCatalog.Resources, ApiSchema.Definitions);

        Assert.Equal(OpenApiDocuments.V3.Index.Hash, again.Index.Hash);
        Assert.Equal(OpenApiDocuments.V3.Index.ETag, $"\"{again.Index.Hash}\"");
    }
}
