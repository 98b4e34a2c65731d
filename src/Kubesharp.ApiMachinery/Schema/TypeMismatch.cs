using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Schema;

/// <summary>
/// A value whose JSON type does not fit its schema: where it is, what the schema wants and what arrived.
/// Renders as upstream's typed decoder reports it (built-in kinds) or as a structural-schema field error (custom resources).
/// </summary>
public sealed record TypeMismatch
{
    /// <summary>The field as validation errors print it: <c>spec.template.spec.containers[0].image</c>.</summary>
    public required FieldPath Field { get; init; }

    /// <summary>The field as the Go decoder prints it: JSON names without indexes or keys (<c>spec.template.spec.containers.image</c>).</summary>
    public required string DecoderPath { get; init; }

    /// <summary>The innermost named struct holding the field (<c>Container</c>), empty at the top of a value.</summary>
    public required string Struct { get; init; }

    /// <summary>The Go type the schema maps to: <c>int32</c>, <c>[]v1.Container</c>, <c>map[string]string</c>.</summary>
    public required string GoType { get; init; }

    /// <summary>The schema's type name: integer, number, string, boolean, array, object.</summary>
    public required string SchemaType { get; init; }

    /// <summary>The JSON type that arrived: string, number, boolean, array, object.</summary>
    public required string JsonType { get; init; }

    /// <summary>A number's literal when its text, not its type, is wrong (1.5 for an integer, 1e400 out of range).</summary>
    public string? Literal { get; init; }

    /// <summary>A type's own decoding error (quantities, times, base64), replacing the generic text.</summary>
    public string? Detail { get; init; }

    /// <summary>The message of upstream's JSON decoder: <c>json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32</c>.</summary>
    public string DecoderMessage
    {
        get
        {
            if (Detail is not null)
            {
                return Detail;
            }

            var value = Literal is null ? GoValueName(JsonType) : $"number {Literal}";
            return Struct.Length == 0 || DecoderPath.Length == 0
                ? $"json: cannot unmarshal {value} into Go value of type {GoType}"
                : $"json: cannot unmarshal {value} into Go struct field {Struct}.{DecoderPath} of type {GoType}";
        }
    }

    /// <summary>The structural-schema error custom resources get: <c>spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"</c>.</summary>
    public FieldError ToFieldError() =>
        FieldError.TypeInvalid(Field, JsonType, Detail ?? $"{Field} in body must be of type {SchemaType}: {QuotedString.Quote(JsonType)}");

    private static string GoValueName(string jsonType) => jsonType == "boolean" ? "bool" : jsonType;
}
