using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry.Strategies;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// Custom objects: defaults from the schema, validation against it; with a status subresource the main resource
/// keeps status and the status subresource changes nothing else (the base strategy's split).
/// </summary>
internal sealed class CustomResourceStrategy(ApiResource resource, CustomResourceSchema? schema) : ResourceStrategy(resource)
{
    /// <summary>The schema's CEL rules, compiled once for this version of the definition.</summary>
    private readonly CustomResourceCelValidator? _rules = schema is null ? null : CustomResourceCelValidator.Build(schema);

    /// <summary>Custom objects always count their generations.</summary>
    public override bool TracksGeneration => true;

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        schema?.ApplyDefaults(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        schema?.ApplyDefaults(updated);
    }

    public override JsonObject PrepareForStatusUpdate(JsonObject updated, JsonObject old)
    {
        var result = base.PrepareForStatusUpdate(updated, old);
        schema?.ApplyDefaults(result);
        return result;
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        schema?.ValidateObject(obj, causes);
        if (_rules is null)
        {
            return;
        }

        // A value of the wrong type would only make rules fail confusingly: upstream skips them then.
        if (causes.Any(c => c.Reason == "FieldValueTypeInvalid"))
        {
            causes.Add(new StatusCause("FieldValueInvalid", "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "<nil>"));
            return;
        }

        _rules.Validate(obj, old, causes);
    }
}
