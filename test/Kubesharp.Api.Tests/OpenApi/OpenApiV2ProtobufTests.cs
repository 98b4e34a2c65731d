using System.Text.Json.Nodes;
using Kubesharp.Api.OpenApi;
using YamlDotNet.Serialization;

namespace Kubesharp.Api.Tests.OpenApi;

/// <summary>
/// The protobuf form of /openapi/v2, read back field by field with numbers of the gnostic openapi.v2 messages
/// (Document, Schema, PathItem, Operation, …) and compared with the JSON document it is made from.
/// </summary>
public sealed class OpenApiV2ProtobufTests
{
    private static readonly Lazy<WireMessage> Document = new(() => new WireMessage(OpenApiV2Protobuf.Encode(OpenApiDocuments.V2.Json.Span)));
    private static readonly Lazy<JsonNode> Json = new(() => JsonNode.Parse(OpenApiDocuments.V2.Json.Span)!);

    /// <summary>The value of an Any (field 2 is its YAML text), read by a YAML parser.</summary>
    private static object? Yaml(WireMessage any) => new DeserializerBuilder().Build().Deserialize<object>(any.String(2)!);

    [Fact]
    public void Encode_BuiltInDocument_HasSwaggerVersionInfoAndSecurity()
    {
        var document = Document.Value;

        Assert.Equal("2.0", document.String(1));
        var info = document.Message(2);
        Assert.Equal("Kubernetes", info.String(1));
        Assert.Equal("unversioned", info.String(2));
        // security: SecurityRequirement { NamedStringArray BearerToken: [] }
        Assert.Equal(["BearerToken"], document.Message(12).Named(1).Keys);
        // securityDefinitions: BearerToken is an ApiKeySecurity (oneof choice 2).
        var bearer = document.Message(13).Named(1)["BearerToken"].Message(2);
        Assert.Equal(("apiKey", "authorization", "header"), (bearer.String(1), bearer.String(2), bearer.String(3)));
    }

    [Fact]
    public void Encode_ConfigMapDefinition_HasPropertiesRefsMapsAndGroupVersionKind()
    {
        var definitions = Document.Value.Message(9).Named(1);

        var configMap = definitions["io.k8s.api.core.v1.ConfigMap"];
        Assert.Equal(["object"], configMap.Message(22).Strings(1));
        var properties = configMap.Message(25).Named(1);
        Assert.Equal(["apiVersion", "binaryData", "data", "immutable", "kind", "metadata"], properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", properties["metadata"].String(1));
        // data: a map of strings (additionalProperties holds a Schema, oneof choice 1).
        Assert.Equal(["object"], properties["data"].Message(22).Strings(1));
        Assert.Equal(["string"], properties["data"].Message(21).Message(1).Message(22).Strings(1));
        Assert.Equal(["byte"], properties["binaryData"].Message(21).Message(1).Strings(2));
        Assert.Equal(["boolean"], properties["immutable"].Message(22).Strings(1));

        var extensions = configMap.Named(31);
        var gvk = Assert.IsType<List<object>>(Yaml(extensions["x-kubernetes-group-version-kind"]));
        var entry = Assert.IsType<Dictionary<object, object>>(Assert.Single(gvk));
        Assert.Equal(string.Empty, entry["group"]);
        Assert.Equal("ConfigMap", entry["kind"]);
        Assert.Equal("v1", entry["version"]);
    }

    [Fact]
    public void Encode_PodSpecContainers_KeepsArrayItemsRequiredAndPatchExtensions()
    {
        var podSpec = Document.Value.Message(9).Named(1)["io.k8s.api.core.v1.PodSpec"];

        Assert.Contains("containers", podSpec.Strings(19));
        var containers = podSpec.Message(25).Named(1)["containers"];
        Assert.Equal(["array"], containers.Message(22).Strings(1));
        Assert.Equal("#/definitions/io.k8s.api.core.v1.Container", containers.Message(23).Message(1).String(1));
        var extensions = containers.Named(31);
        Assert.Equal("name", Yaml(extensions["x-kubernetes-patch-merge-key"]));
        Assert.Equal("merge", Yaml(extensions["x-kubernetes-patch-strategy"]));
    }

    [Fact]
    public void Encode_PodPaths_HaveOperationsParametersResponsesAndExtensions()
    {
        var paths = Document.Value.Message(8).Named(2);

        var collection = paths["/api/v1/namespaces/{namespace}/pods"];
        var post = collection.Message(4);
        Assert.Contains("application/json", post.Strings(6));
        Assert.Equal(["*/*"], post.Strings(7));
        var parameters = post.Messages(8).Select(p => p.Message(1)).ToList();
        // A body parameter is Parameter choice 1; query parameters are NonBodyParameter (choice 2) choice 3.
        var body = Assert.Single(parameters, p => p.Has(1)).Message(1);
        Assert.Equal(("body", "body", 1UL), (body.String(2), body.String(3), body.Varint(4)));
        Assert.Equal("#/definitions/io.k8s.api.core.v1.Pod", body.Message(5).String(1));
        var query = parameters.Where(p => p.Has(2)).Select(p => p.Message(2).Message(3)).ToDictionary(q => q.String(4)!);
        Assert.Equal(["dryRun", "fieldManager", "fieldValidation"], query.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("query", "string", 1UL), (query["fieldValidation"].String(2), query["fieldValidation"].String(6), query["fieldValidation"].Varint(20)));
        // responses: 200 and 201 answer a Pod.
        var responses = post.Message(9).Named(1);
        Assert.Equal(["200", "201", "202", "401"], responses.Keys.Order(StringComparer.Ordinal));
        var ok = responses["200"].Message(1);
        Assert.Equal("OK", ok.String(1));
        Assert.Equal("#/definitions/io.k8s.api.core.v1.Pod", ok.Message(2).Message(1).String(1));
        var extensions = post.Named(13);
        Assert.Equal("post", Yaml(extensions["x-kubernetes-action"]));
        var gvk = Assert.IsType<Dictionary<object, object>>(Yaml(extensions["x-kubernetes-group-version-kind"]));
        Assert.Equal("Pod", gvk["kind"]);

        // The path's own parameters: namespace is a PathParameterSubSchema (NonBodyParameter choice 4).
        var pathParameter = Assert.Single(collection.Messages(9)).Message(1).Message(2).Message(4);
        Assert.Equal(("namespace", "path", "string", 1UL), (pathParameter.String(4), pathParameter.String(2), pathParameter.String(5), pathParameter.Varint(1)));

        var item = paths["/api/v1/namespaces/{namespace}/pods/{name}"];
        Assert.True(item.Has(2) && item.Has(3) && item.Has(5) && item.Has(8), "get, put, delete and patch");
        Assert.Contains("application/strategic-merge-patch+json", item.Message(8).Strings(7));
    }

    [Fact]
    public void Encode_EveryDefinitionAndPath_MatchesTheJsonDocument()
    {
        var definitions = Document.Value.Message(9).Named(1);
        var json = Json.Value;

        var jsonDefinitions = json["definitions"]!.AsObject();
        Assert.Equal(jsonDefinitions.Select(d => d.Key), definitions.Keys);
        foreach (var (name, schema) in jsonDefinitions)
        {
            var properties = schema!["properties"]?.AsObject().Select(p => p.Key).ToList() ?? [];
            var encoded = definitions[name].Has(25) ? definitions[name].Message(25).Named(1).Keys.ToList() : [];
            Assert.True(properties.SequenceEqual(encoded), name);
        }

        Assert.Equal(json["paths"]!.AsObject().Select(p => p.Key), Document.Value.Message(8).Named(2).Keys);
    }
}
