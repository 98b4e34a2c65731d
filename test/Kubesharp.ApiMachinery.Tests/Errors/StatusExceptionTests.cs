using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Tests.Errors;

public sealed class StatusExceptionTests
{
    [Fact]
    public void NotFound_CoreResource_MatchesUpstreamMessage()
    {
        var error = StatusException.NotFound("", "pods", "x");

        Assert.Equal(404, error.Code);
        Assert.Equal("NotFound", error.Reason);
        Assert.Equal("pods \"x\" not found", error.Message);
        Assert.Equal("pods", error.Details!.Kind);
    }

    [Fact]
    public void NotFound_GroupResource_QualifiesWithGroup()
    {
        var error = StatusException.NotFound("apps", "deployments", "web");

        Assert.Equal("deployments.apps \"web\" not found", error.Message);
        Assert.Equal("apps", error.Details!.Group);
    }

    [Fact]
    public void AlreadyExists_Pod_MatchesUpstreamMessage()
    {
        var error = StatusException.AlreadyExists("", "pods", "x");

        Assert.Equal(409, error.Code);
        Assert.Equal("AlreadyExists", error.Reason);
        Assert.Equal("pods \"x\" already exists", error.Message);
    }

    [Fact]
    public void Conflict_DefaultMessage_IsOptimisticLockText()
    {
        var error = StatusException.Conflict("", "pods", "x");

        Assert.Equal(409, error.Code);
        Assert.Equal("Conflict", error.Reason);
        Assert.Equal(
            "Operation cannot be fulfilled on pods \"x\": the object has been modified; please apply your changes to the latest version and try again",
            error.Message);
    }

    [Fact]
    public void Invalid_SeveralErrors_ListsThemInBrackets()
    {
        var containers = FieldPath.Root("spec", "containers");
        var error = StatusException.Invalid("", "Pod", "x",
        [
            FieldError.Required(containers.Index(0).Child("image")),
            FieldError.Invalid(containers.Index(0).Child("name"), "Bad_Name", "must be lowercase"),
        ]);

        Assert.Equal(422, error.Code);
        Assert.Equal("Invalid", error.Reason);
        Assert.Equal(
            "Pod \"x\" is invalid: [spec.containers[0].image: Required value, spec.containers[0].name: Invalid value: \"Bad_Name\": must be lowercase]",
            error.Message);
        Assert.Equal(2, error.Details!.Causes.Count);
        Assert.Equal(new StatusCause("FieldValueRequired", "Required value", "spec.containers[0].image"), error.Details.Causes[0]);
        Assert.Equal("Pod", error.Details.Kind);
    }

    [Fact]
    public void Invalid_OneError_HasNoBrackets()
    {
        var error = StatusException.Invalid("apps", "Deployment", "web",
            [FieldError.Invalid(FieldPath.Root("spec", "replicas"), -1L, "must be greater than or equal to 0")]);

        Assert.Equal("Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0", error.Message);
    }

    [Fact]
    public void Invalid_DuplicateMessages_AreReportedOnce()
    {
        var path = FieldPath.Root("metadata", "name");
        var error = StatusException.Invalid("", "Pod", "", [FieldError.Required(path), FieldError.Required(path)]);

        Assert.Equal("Pod \"\" is invalid: metadata.name: Required value", error.Message);
    }

    [Fact]
    public void Forbidden_WithAndWithoutName_MatchesUpstream()
    {
        Assert.Equal("pods \"x\" is forbidden: no", StatusException.Forbidden("", "pods", "x", "no").Message);
        Assert.Equal("pods is forbidden: no", StatusException.Forbidden("", "pods", "", "no").Message);
        Assert.Equal("forbidden: no", StatusException.Forbidden("", "", "", "no").Message);
    }

    [Fact]
    public void MethodNotSupported_Create_MatchesUpstream()
    {
        var error = StatusException.MethodNotSupported("", "bindings", "list");

        Assert.Equal(405, error.Code);
        Assert.Equal("list is not supported on resources of kind \"bindings\"", error.Message);
    }

    [Fact]
    public void WriteTo_NotFound_RendersStatusObject()
    {
        var json = System.Text.Encoding.UTF8.GetString(StatusException.NotFound("", "pods", "x").ToJsonBytes());

        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}""",
            json);
    }

    [Fact]
    public void WriteTo_InvalidWithCausesAndRetry_RendersAllDetails()
    {
        var error = StatusException.Invalid("", "Pod", "x", [FieldError.Required(FieldPath.Root("spec", "containers"))]);
        var node = JsonNode.Parse(error.ToJsonBytes())!;

        Assert.Equal("Failure", (string?)node["status"]);
        Assert.Equal(422, (int?)node["code"]);
        var cause = node["details"]!["causes"]![0]!;
        Assert.Equal("FieldValueRequired", (string?)cause["reason"]);
        Assert.Equal("Required value", (string?)cause["message"]);
        Assert.Equal("spec.containers", (string?)cause["field"]);

        var tooMany = JsonNode.Parse(StatusException.TooManyRequests("slow down", 3).ToJsonBytes())!;
        Assert.Equal(3, (int?)tooMany["details"]!["retryAfterSeconds"]);
        Assert.Equal("Too many requests: slow down", (string?)tooMany["message"]);
    }

    [Fact]
    public void InternalError_WrapsMessage()
    {
        var error = StatusException.InternalError("boom");

        Assert.Equal(500, error.Code);
        Assert.Equal("Internal error occurred: boom", error.Message);
    }

    [Fact]
    public void TooOldResourceVersion_IsExpired410()
    {
        var error = StatusException.TooOldResourceVersion(5, 10);

        Assert.Equal(410, error.Code);
        Assert.Equal("Expired", error.Reason);
        Assert.Equal("too old resource version: 5 (10)", error.Message);
    }
}
