using System.Text.Json;

namespace Kubesharp.Api.Generator;

/// <summary>A property's C# type: its text, and names that make its JSON metadata unique in the context.</summary>
internal sealed record CSharpType(string Text, string UniqueName, bool IsCollection, CSharpType? Element)
{
    /// <summary>The definition this type is, when it is a named one.</summary>
    public Definition? Definition { get; init; }
}

internal sealed class CSharpTypes(SpecDefinitions definitions)
{
    public CSharpType Resolve(JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out _))
        {
            var d = definitions[SpecDefinitions.RefName(schema)];
            var unique = d.Mapping == DefinitionMapping.Record ? d.Prefix + d.TypeName : d.TypeName;
            return new CSharpType(d.CSharpReference, unique, false, null) { Definition = d };
        }

        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        switch (type)
        {
            case "array":
                {
                    var element = Resolve(schema.GetProperty("items"));
                    return new CSharpType($"global::System.Collections.Generic.List<{element.Text}>", "ListOf" + element.UniqueName, true, element);
                }

            case "object" when schema.TryGetProperty("additionalProperties", out var ap) && ap.ValueKind == JsonValueKind.Object:
                {
                    var element = Resolve(ap);
                    return new CSharpType($"global::System.Collections.Generic.Dictionary<string, {element.Text}>", "MapOf" + element.UniqueName, true, element);
                }

            case "string" when format == "byte":
                return new CSharpType("byte[]", "Bytes", false, null);
            case "string" when format == "date-time":
                return new CSharpType("global::System.DateTimeOffset", "DateTimeOffset", false, null);
            case "string" when format == "int-or-string":
                return new CSharpType("global::Kubesharp.ApiMachinery.IntOrString", "IntOrString", false, null);
            case "string":
                return new CSharpType("string", "String", false, null);
            case "integer" when format == "int32":
                return new CSharpType("int", "Int32", false, null);
            case "integer":
                return new CSharpType("long", "Int64", false, null);
            case "number":
                return new CSharpType("double", "Double", false, null);
            case "boolean":
                return new CSharpType("bool", "Boolean", false, null);
            default:
                return new CSharpType("global::System.Text.Json.Nodes.JsonNode", "JsonNode", false, null);
        }
    }
}
