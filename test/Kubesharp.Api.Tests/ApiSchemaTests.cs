using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.Tests;

public sealed class ApiSchemaTests
{
    [Fact]
    public void TryGetDefinition_PodSpec_CarriesPatchAndListMetadata()
    {
        Assert.True(ApiSchema.TryGetDefinition("io.k8s.api.core.v1.PodSpec", out var podSpec));

        var containers = podSpec.Properties["containers"];
        Assert.Equal("merge", containers.PatchStrategy);
        Assert.Equal("name", containers.PatchMergeKey);
        Assert.Equal("map", containers.ListType);
        Assert.Equal(["name"], containers.ListMapKeys);
        Assert.Equal(SchemaKind.Array, containers.Type.Kind);
        Assert.Same(ApiSchema.Definitions["io.k8s.api.core.v1.Container"], containers.Type.Items);
        Assert.Contains("containers", podSpec.Required);
    }

    [Fact]
    public void TryGetDefinition_Unknown_ReturnsFalse()
    {
        Assert.False(ApiSchema.TryGetDefinition("io.k8s.api.core.v1.Nope", out _));
    }

    [Fact]
    public void ForKind_Deployment_ReturnsItsDefinition()
    {
        var schema = ApiSchema.ForKind(new GroupVersionKind("apps", "v1", "Deployment"));

        Assert.NotNull(schema);
        Assert.Equal("io.k8s.api.apps.v1.Deployment", schema.Name);
        Assert.Equal(SchemaKind.Object, schema.Kind);
        Assert.Equal([new GroupVersionKind("apps", "v1", "Deployment")], schema.GroupVersionKinds);
    }

    [Fact]
    public void ForKind_DeleteOptionsOfAnyGroup_ReturnsMetaDeleteOptions()
    {
        Assert.Equal("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", ApiSchema.ForKind(new GroupVersionKind("batch", "v1", "DeleteOptions"))?.Name);
        Assert.Null(ApiSchema.ForKind(new GroupVersionKind("apps", "v1", "Pod")));
    }

    [Fact]
    public void JsonSchemaProps_Recursive_SharesTheDefinition()
    {
        var props = ApiSchema.Definitions["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"];

        var properties = props.Properties["properties"].Type;
        Assert.Equal(SchemaKind.Map, properties.Kind);
        Assert.Same(props, properties.Items);
        Assert.Equal(SchemaKind.Any, props.Properties["items"].Type.Kind);
        Assert.True(props.Properties.ContainsKey("x-kubernetes-preserve-unknown-fields"));
    }

    [Fact]
    public void Primitives_HaveTheirSchemaKinds()
    {
        Assert.Equal(SchemaKind.IntOrString, ApiSchema.Definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"].Kind);
        Assert.Equal(SchemaKind.String, ApiSchema.Definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"].Kind);
        Assert.Equal("date-time", ApiSchema.Definitions["io.k8s.apimachinery.pkg.apis.meta.v1.Time"].Format);
        Assert.Equal(SchemaKind.Any, ApiSchema.Definitions["io.k8s.apimachinery.pkg.runtime.RawExtension"].Kind);
        Assert.Equal(SchemaKind.Any, ApiSchema.Definitions["io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"].Kind);
        var meta = ApiSchema.Definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"];
        Assert.Equal(SchemaKind.Map, meta.Properties["labels"].Type.Kind);
        Assert.Equal(SchemaKind.String, meta.Properties["labels"].Type.Items!.Kind);
        Assert.Equal("int64", meta.Properties["generation"].Type.Format);
    }

    [Fact]
    public void LabelSelector_IsAtomicMap()
    {
        Assert.Equal("atomic", ApiSchema.Definitions["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"].MapType);
    }

    [Fact]
    public void Definitions_EveryReferenceResolves()
    {
        Assert.True(ApiSchema.Definitions.Count > 700);
        foreach (var (name, schema) in ApiSchema.Definitions)
        {
            Assert.Equal(name, schema.Name);
            foreach (var field in schema.Properties.Values)
            {
                for (var type = field.Type; type is not null; type = type.Name is null ? type.Items : null)
                {
                    Assert.True(type.Name is null || ApiSchema.Definitions.ContainsKey(type.Name));
                    Assert.True(type.Kind is not (SchemaKind.Array or SchemaKind.Map) || type.Items is not null, $"{name}.{field.Name}");
                }
            }
        }
    }
}
