using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// Type checks a body against its kind's schema before anything is stored, answering as upstream's typed decoding
/// does: a request body that does not decode is a 400 BadRequest; a patch whose result does not decode is a
/// 422 Invalid on the field <c>patch</c>.
/// </summary>
internal static class SchemaTypeCheck
{
    /// <summary>A create, update or apply body.</summary>
    public static void CheckBody(ApiResource resource, JsonObject body) => CheckBody(resource, new ParsedBody(body, null));

    /// <summary>A create or update body, checked on the document it was parsed from when there is one.</summary>
    public static void CheckBody(ApiResource resource, ParsedBody body)
    {
        var mismatch = Patches.SchemaOf(resource) is not { } schema ? null
            : body.Parsed is { } parsed ? SchemaTypeChecker.First(parsed, schema)
            : SchemaTypeChecker.First(body.Object, schema);
        if (mismatch is not null)
        {
            throw StatusError.BadRequest($"{resource.Kind} in version {Kubesharp.ApiMachinery.Errors.QuotedString.Quote(resource.Version)} cannot be handled as a {resource.Kind}: {mismatch.DecoderMessage}");
        }
    }

    /// <summary>The object a JSON, merge or strategic merge patch produced.</summary>
    public static void CheckPatched(ApiResource resource, JsonObject patched)
    {
        if (First(resource, patched) is { } mismatch)
        {
            throw StatusError.Invalid(string.Empty, string.Empty, string.Empty,
                [new StatusCause("FieldValueInvalid", $"Invalid value: {Kubesharp.ApiMachinery.Errors.QuotedString.Quote(patched.ToJsonString())}: {mismatch.DecoderMessage}", "patch")]);
        }
    }

    private static TypeMismatch? First(ApiResource resource, JsonObject body) =>
        Patches.SchemaOf(resource) is { } schema ? SchemaTypeChecker.First(body, schema) : null;
}
