using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Validation;

namespace Kubesharp.ApiMachinery.Tests.Validation;

public sealed class ObjectMetaValidationTests
{
    private static JsonObject Meta(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void ValidateObjectMeta_Valid_NoErrors()
    {
        var errors = ObjectMetaValidation.ValidateObjectMeta(
            Meta("""{"name":"web","namespace":"default","labels":{"app":"web"},"annotations":{"Example.com/Note":"x"},"finalizers":["example.com/f"]}"""),
            namespaced: true, NameValidation.Dns1123SubdomainName);

        Assert.Empty(errors);
    }

    [Fact]
    public void ValidateObjectMeta_NoName_RequiredWithUpstreamDetail()
    {
        var error = Assert.Single(ObjectMetaValidation.ValidateObjectMeta(Meta("""{"namespace":"default"}"""), true, NameValidation.Dns1123SubdomainName));

        Assert.Equal("metadata.name: Required value: name or generateName is required", error.Message);
    }

    [Fact]
    public void ValidateObjectMeta_BadName_InvalidOnName()
    {
        var errors = ObjectMetaValidation.ValidateObjectMeta(Meta("""{"name":"Web","namespace":"default"}"""), true, NameValidation.Dns1123SubdomainName);

        var error = Assert.Single(errors);
        Assert.Equal("metadata.name", error.Field);
        Assert.StartsWith("Invalid value: \"Web\": a lowercase RFC 1123 subdomain", error.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateObjectMeta_NamespaceMissingOrForbidden_Reported()
    {
        var missing = Assert.Single(ObjectMetaValidation.ValidateObjectMeta(Meta("""{"name":"a"}"""), true, NameValidation.Dns1123SubdomainName));
        Assert.Equal("metadata.namespace: Required value", missing.Message);

        var forbidden = Assert.Single(ObjectMetaValidation.ValidateObjectMeta(Meta("""{"name":"a","namespace":"x"}"""), false, NameValidation.Dns1123SubdomainName));
        Assert.Equal("metadata.namespace: Forbidden: not allowed on this type", forbidden.Message);
    }

    [Fact]
    public void ValidateObjectMeta_GenerateNameOnly_Valid()
    {
        Assert.Empty(ObjectMetaValidation.ValidateObjectMeta(Meta("""{"generateName":"web-","name":"web-abcde","namespace":"d"}"""), true, NameValidation.Dns1123SubdomainName));
        var bad = ObjectMetaValidation.ValidateObjectMeta(Meta("""{"generateName":"Web-","name":"x","namespace":"d"}"""), true, NameValidation.Dns1123SubdomainName);
        Assert.Equal("metadata.generateName", Assert.Single(bad).Field);
    }

    [Fact]
    public void ValidateLabels_BadKeyAndValue_ErrorsOnLabelsPath()
    {
        var errors = ObjectMetaValidation.ValidateLabels(Meta("""{"bad key":"ok","ok":"bad value"}"""), FieldPath.Root("metadata", "labels"));

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("metadata.labels", e.Field));
        Assert.StartsWith("Invalid value: \"bad key\": name part must consist", errors[0].Body, StringComparison.Ordinal);
        Assert.StartsWith("Invalid value: \"bad value\": a valid label must be an empty string", errors[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateAnnotations_TooLarge_TooLong()
    {
        var annotations = new JsonObject { ["a"] = new string('x', ObjectMetaValidation.TotalAnnotationSizeLimitBytes) };

        var error = Assert.Single(ObjectMetaValidation.ValidateAnnotations(annotations, FieldPath.Root("metadata", "annotations")));

        Assert.Equal("metadata.annotations: Too long: may not be more than 262144 bytes", error.Message);
    }

    [Fact]
    public void ValidateAnnotations_UppercaseKey_Accepted()
    {
        Assert.Empty(ObjectMetaValidation.ValidateAnnotations(Meta("""{"Example.COM/Key":"v"}"""), FieldPath.Root("metadata", "annotations")));
    }

    [Fact]
    public void ValidateOwnerReferences_MissingUidAndTwoControllers_Reported()
    {
        var refs = JsonNode.Parse("""
            [{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"a","uid":"1","controller":true},
             {"apiVersion":"apps/v1","kind":"ReplicaSet","name":"b","controller":true}]
            """)!.AsArray();

        var errors = ObjectMetaValidation.ValidateOwnerReferences(refs, FieldPath.Root("metadata", "ownerReferences"));

        Assert.Equal("metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty", errors[0].Message);
        Assert.EndsWith("Found \"true\" in references for ReplicaSet/a and ReplicaSet/b", errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateFinalizers_OrphanAndForeground_Rejected()
    {
        var errors = ObjectMetaValidation.ValidateFinalizers(JsonNode.Parse("""["orphan","foregroundDeletion"]""")!.AsArray(), FieldPath.Root("metadata", "finalizers"));

        Assert.Equal("metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set", Assert.Single(errors).Message);
    }

    [Fact]
    public void ValidateObjectMetaUpdate_ChangedUid_Immutable()
    {
        var errors = ObjectMetaValidation.ValidateObjectMetaUpdate(
            Meta("""{"name":"a","namespace":"d","uid":"2"}"""), Meta("""{"name":"a","namespace":"d","uid":"1"}"""), true, NameValidation.Dns1123SubdomainName);

        Assert.Equal("metadata.uid: Invalid value: \"2\": field is immutable", Assert.Single(errors).Message);
    }
}
