using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Tests.Errors;

public sealed class FieldErrorTests
{
    [Fact]
    public void FieldPath_ChildIndexKey_PrintsLikeUpstream()
    {
        Assert.Equal("spec.containers[0].image", FieldPath.Root("spec").Child("containers").Index(0).Child("image").ToString());
        Assert.Equal("metadata.labels[app.kubernetes.io/name]", FieldPath.Root("metadata", "labels").Key("app.kubernetes.io/name").ToString());
        Assert.Equal("spec.template.spec", FieldPath.Root("spec").Child("template", "spec").ToString());
    }

    [Fact]
    public void Invalid_StringValue_IsQuoted()
    {
        var error = FieldError.Invalid(FieldPath.Root("metadata", "name"), "a\"b", "bad");

        Assert.Equal("Invalid value: \"a\\\"b\": bad", error.Body);
        Assert.Equal("metadata.name: Invalid value: \"a\\\"b\": bad", error.Message);
    }

    [Fact]
    public void Invalid_NumberBoolNullJson_PrintedPlain()
    {
        var path = FieldPath.Root("x");
        Assert.Equal("Invalid value: 3: d", FieldError.Invalid(path, 3, "d").Body);
        Assert.Equal("Invalid value: true: d", FieldError.Invalid(path, true, "d").Body);
        Assert.Equal("Invalid value: null: d", FieldError.Invalid(path, null, "d").Body);
        Assert.Equal("Invalid value: \"s\": d", FieldError.Invalid(path, JsonValue.Create("s"), "d").Body);
        Assert.Equal("Invalid value: {\"a\":1}: d", FieldError.Invalid(path, new JsonObject { ["a"] = 1 }, "d").Body);
        Assert.Equal("Invalid value: []string{\"a\", \"b\"}: d", FieldError.Invalid(path, new[] { "a", "b" }, "d").Body);
    }

    [Fact]
    public void NotSupported_ListsSupportedValuesQuoted()
    {
        var error = FieldError.NotSupported(FieldPath.Root("spec", "restartPolicy"), "x", ["Always", "OnFailure", "Never"]);

        Assert.Equal("spec.restartPolicy: Unsupported value: \"x\": supported values: \"Always\", \"OnFailure\", \"Never\"", error.Message);
        Assert.Equal("FieldValueNotSupported", FieldError.CauseType(error.Type));
    }

    [Fact]
    public void Required_WithDetail_AppendsDetail()
    {
        Assert.Equal("Required value: name or generateName is required",
            FieldError.Required(FieldPath.Root("metadata", "name"), "name or generateName is required").Body);
    }

    [Fact]
    public void TooLongTooManyForbiddenDuplicate_BodiesMatchUpstream()
    {
        var path = FieldPath.Root("metadata", "annotations");
        Assert.Equal("Too long: may not be more than 262144 bytes", FieldError.TooLong(path, 262144).Body);
        Assert.Equal("Too long: may not be more than 1 byte", FieldError.TooLong(path, 1).Body);
        Assert.Equal("Too many: 5: must have at most 4 items", FieldError.TooMany(path, 5, 4).Body);
        Assert.Equal("Too many: must have at most 1 item", FieldError.TooMany(path, -1, 1).Body);
        Assert.Equal("Forbidden: may not be set", FieldError.Forbidden(path, "may not be set").Body);
        Assert.Equal("Duplicate value: \"a\"", FieldError.Duplicate(path, "a").Body);
        Assert.Equal("Not found: \"a\"", FieldError.NotFound(path, "a").Body);
    }

    [Fact]
    public void Quote_ControlAndUnicode_EscapedLikeGo()
    {
        Assert.Equal("Invalid value: \"a\\nb\\x01é\": d", FieldError.Invalid(FieldPath.Root("x"), "a\nb\u0001é", "d").Body);
    }
}
