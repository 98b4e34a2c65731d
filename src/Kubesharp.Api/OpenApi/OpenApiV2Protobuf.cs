using System.Text.Json;
using Kubesharp.Api.Protobuf;

namespace Kubesharp.Api.OpenApi;

/// <summary>
/// Converts the /openapi/v2 JSON document into the protobuf form kubectl asks for (the gnostic OpenAPI v2
/// <c>Document</c> message, package openapi.v2). Only the message and field numbers of that wire contract are used;
/// the converter walks the same JSON that is served, so both forms always say the same thing. Vendor extensions and
/// free-form values (default, enum, example) travel as <c>Any.yaml</c> text; JSON text is YAML, so they are written as
/// JSON. Proto3 leaves out empty strings, false and zero, and so does this encoder.
/// </summary>
public static class OpenApiV2Protobuf
{
    /// <summary>The media type of the protobuf form (also answered for its older spelling with '@').</summary>
    public const string ContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    private const int LengthDelimited = 2;
    private const int Varint = 0;
    private const int Fixed64 = 1;

    // Field numbers of the Schema message.
    private static readonly Dictionary<string, int> SchemaFields = new(StringComparer.Ordinal)
    {
        ["$ref"] = 1, ["format"] = 2, ["title"] = 3, ["description"] = 4, ["default"] = 5, ["multipleOf"] = 6,
        ["maximum"] = 7, ["exclusiveMaximum"] = 8, ["minimum"] = 9, ["exclusiveMinimum"] = 10, ["maxLength"] = 11,
        ["minLength"] = 12, ["pattern"] = 13, ["maxItems"] = 14, ["minItems"] = 15, ["uniqueItems"] = 16,
        ["maxProperties"] = 17, ["minProperties"] = 18, ["required"] = 19, ["enum"] = 20, ["additionalProperties"] = 21,
        ["type"] = 22, ["items"] = 23, ["allOf"] = 24, ["properties"] = 25, ["discriminator"] = 26, ["readOnly"] = 27,
        ["example"] = 30,
    };

    // Field numbers of the header and path parameter messages; query and form parameters have allowEmptyValue
    // at 5 and every later field one number up.
    private static readonly Dictionary<string, int> SimpleParameterFields = new(StringComparer.Ordinal)
    {
        ["required"] = 1, ["in"] = 2, ["description"] = 3, ["name"] = 4, ["type"] = 5, ["format"] = 6, ["items"] = 7,
        ["collectionFormat"] = 8, ["default"] = 9, ["maximum"] = 10, ["exclusiveMaximum"] = 11, ["minimum"] = 12,
        ["exclusiveMinimum"] = 13, ["maxLength"] = 14, ["minLength"] = 15, ["pattern"] = 16, ["maxItems"] = 17,
        ["minItems"] = 18, ["uniqueItems"] = 19, ["enum"] = 20, ["multipleOf"] = 21,
    };

    // Field numbers of the PrimitivesItems message (the items of a non-body parameter).
    private static readonly Dictionary<string, int> PrimitivesItemsFields = new(StringComparer.Ordinal)
    {
        ["type"] = 1, ["format"] = 2, ["items"] = 3, ["collectionFormat"] = 4, ["default"] = 5, ["maximum"] = 6,
        ["exclusiveMaximum"] = 7, ["minimum"] = 8, ["exclusiveMinimum"] = 9, ["maxLength"] = 10, ["minLength"] = 11,
        ["pattern"] = 12, ["maxItems"] = 13, ["minItems"] = 14, ["uniqueItems"] = 15, ["enum"] = 16, ["multipleOf"] = 17,
    };

    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch"];

    /// <summary>The protobuf form of a v2 JSON document.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var w = new ProtobufWriter();
        WriteDocument(w, document.RootElement);
        return w.WrittenSpan.ToArray();
    }

    private static void WriteDocument(ProtobufWriter w, JsonElement doc)
    {
        String(w, 1, doc, "swagger");
        if (doc.TryGetProperty("info", out var info))
        {
            Message(w, 2, info, WriteInfo);
        }

        String(w, 3, doc, "host");
        String(w, 4, doc, "basePath");
        Strings(w, 5, doc, "schemes");
        Strings(w, 6, doc, "consumes");
        Strings(w, 7, doc, "produces");
        if (doc.TryGetProperty("paths", out var paths))
        {
            Message(w, 8, paths, WritePaths);
        }

        if (doc.TryGetProperty("definitions", out var definitions))
        {
            Message(w, 9, definitions, static (w, d) => NamedEntries(w, 1, d, WriteSchema));
        }

        if (doc.TryGetProperty("security", out var security))
        {
            foreach (var requirement in security.EnumerateArray())
            {
                Message(w, 12, requirement, WriteSecurityRequirement);
            }
        }

        if (doc.TryGetProperty("securityDefinitions", out var securityDefinitions))
        {
            Message(w, 13, securityDefinitions, static (w, d) => NamedEntries(w, 1, d, WriteSecurityDefinition));
        }

        VendorExtensions(w, 16, doc);
    }

    private static void WriteInfo(ProtobufWriter w, JsonElement info)
    {
        String(w, 1, info, "title");
        String(w, 2, info, "version");
        String(w, 3, info, "description");
        String(w, 4, info, "termsOfService");
        VendorExtensions(w, 7, info);
    }

    private static void WritePaths(ProtobufWriter w, JsonElement paths)
    {
        VendorExtensions(w, 1, paths);
        foreach (var path in paths.EnumerateObject().Where(p => !IsVendorExtension(p.Name)))
        {
            Message(w, 2, path, static (w, p) =>
            {
                StringValue(w, 1, p.Name);
                Message(w, 2, p.Value, WritePathItem);
            });
        }
    }

    private static void WritePathItem(ProtobufWriter w, JsonElement item)
    {
        String(w, 1, item, "$ref");
        for (var i = 0; i < Methods.Length; i++)
        {
            if (item.TryGetProperty(Methods[i], out var operation))
            {
                Message(w, 2 + i, operation, WriteOperation);
            }
        }

        Parameters(w, 9, item);
        VendorExtensions(w, 10, item);
    }

    private static void WriteOperation(ProtobufWriter w, JsonElement op)
    {
        Strings(w, 1, op, "tags");
        String(w, 2, op, "summary");
        String(w, 3, op, "description");
        String(w, 5, op, "operationId");
        Strings(w, 6, op, "produces");
        Strings(w, 7, op, "consumes");
        Parameters(w, 8, op);
        if (op.TryGetProperty("responses", out var responses))
        {
            Message(w, 9, responses, WriteResponses);
        }

        Strings(w, 10, op, "schemes");
        Bool(w, 11, op, "deprecated");
        if (op.TryGetProperty("security", out var security))
        {
            foreach (var requirement in security.EnumerateArray())
            {
                Message(w, 12, requirement, WriteSecurityRequirement);
            }
        }

        VendorExtensions(w, 13, op);
    }

    /// <summary>Each parameter is a ParametersItem: a reference, or a Parameter that is a body or a non-body one.</summary>
    private static void Parameters(ProtobufWriter w, int field, JsonElement owner)
    {
        if (!owner.TryGetProperty("parameters", out var parameters))
        {
            return;
        }

        foreach (var parameter in parameters.EnumerateArray())
        {
            Message(w, field, parameter, static (w, p) =>
            {
                if (p.TryGetProperty("$ref", out _))
                {
                    Message(w, 2, p, WriteJsonReference);
                }
                else
                {
                    Message(w, 1, p, WriteParameter);
                }
            });
        }
    }

    private static void WriteParameter(ProtobufWriter w, JsonElement p)
    {
        var location = p.TryGetProperty("in", out var @in) ? @in.GetString() : null;
        if (location == "body")
        {
            Message(w, 1, p, static (w, body) =>
            {
                String(w, 1, body, "description");
                String(w, 2, body, "name");
                String(w, 3, body, "in");
                Bool(w, 4, body, "required");
                if (body.TryGetProperty("schema", out var schema))
                {
                    Message(w, 5, schema, WriteSchema);
                }

                VendorExtensions(w, 6, body);
            });
            return;
        }

        // NonBodyParameter: header 1, formData 2, query 3, path 4.
        var (choice, shifted) = location switch
        {
            "header" => (1, false),
            "formData" => (2, true),
            "query" => (3, true),
            _ => (4, false),
        };
        Message(w, 2, p, (w, nonBody) => Message(w, choice, nonBody, (w, sub) =>
        {
            foreach (var property in sub.EnumerateObject())
            {
                if (property.Name == "allowEmptyValue" && shifted)
                {
                    Scalar(w, 5, property.Value);
                }
                else if (SimpleParameterFields.TryGetValue(property.Name, out var number))
                {
                    var shiftedNumber = shifted && number >= 5 ? number + 1 : number;
                    SimpleField(w, shiftedNumber, property);
                }
            }

            VendorExtensions(w, shifted ? 23 : 22, sub);
        }));
    }

    private static void WriteJsonReference(ProtobufWriter w, JsonElement reference)
    {
        String(w, 1, reference, "$ref");
        String(w, 2, reference, "description");
    }

    private static void WriteResponses(ProtobufWriter w, JsonElement responses)
    {
        foreach (var response in responses.EnumerateObject().Where(r => !IsVendorExtension(r.Name)))
        {
            Message(w, 1, response, static (w, r) =>
            {
                StringValue(w, 1, r.Name);
                Message(w, 2, r.Value, static (w, value) =>
                {
                    if (value.TryGetProperty("$ref", out _))
                    {
                        Message(w, 2, value, WriteJsonReference);
                    }
                    else
                    {
                        Message(w, 1, value, WriteResponse);
                    }
                });
            });
        }

        VendorExtensions(w, 2, responses);
    }

    private static void WriteResponse(ProtobufWriter w, JsonElement response)
    {
        String(w, 1, response, "description");
        if (response.TryGetProperty("schema", out var schema))
        {
            // SchemaItem: a schema (1) or a file schema (2).
            Message(w, 2, schema, static (w, s) => Message(w, 1, s, WriteSchema));
        }

        VendorExtensions(w, 5, response);
    }

    private static void WriteSchema(ProtobufWriter w, JsonElement schema)
    {
        foreach (var property in schema.EnumerateObject())
        {
            if (!SchemaFields.TryGetValue(property.Name, out var number))
            {
                continue;
            }

            var value = property.Value;
            switch (property.Name)
            {
                case "additionalProperties":
                    // AdditionalPropertiesItem: a schema (1) or a boolean (2).
                    Message(w, number, value, static (w, v) =>
                    {
                        if (v.ValueKind == JsonValueKind.Object)
                        {
                            Message(w, 1, v, WriteSchema);
                        }
                        else
                        {
                            Scalar(w, 2, v);
                        }
                    });
                    break;
                case "type":
                    // TypeItem: one or more type names.
                    Message(w, number, value, static (w, v) =>
                    {
                        foreach (var name in v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : [v])
                        {
                            StringValue(w, 1, name.GetString()!);
                        }
                    });
                    break;
                case "items":
                    // ItemsItem: one schema or a list of them.
                    Message(w, number, value, static (w, v) =>
                    {
                        foreach (var item in v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : [v])
                        {
                            Message(w, 1, item, WriteSchema);
                        }
                    });
                    break;
                case "allOf":
                    foreach (var item in value.EnumerateArray())
                    {
                        Message(w, number, item, WriteSchema);
                    }

                    break;
                case "properties":
                    Message(w, number, value, static (w, v) => NamedEntries(w, 1, v, WriteSchema));
                    break;
                default:
                    SimpleField(w, number, property);
                    break;
            }
        }

        VendorExtensions(w, 31, schema);
    }

    private static void WritePrimitivesItems(ProtobufWriter w, JsonElement items)
    {
        foreach (var property in items.EnumerateObject())
        {
            if (PrimitivesItemsFields.TryGetValue(property.Name, out var number))
            {
                SimpleField(w, number, property);
            }
        }

        VendorExtensions(w, 18, items);
    }

    /// <summary>
    /// A field whose shape is the same in every message that has it: free-form values become Any, enum a list of Any,
    /// required a list of strings, items (of parameters) PrimitivesItems, numbers by their name's type.
    /// </summary>
    private static void SimpleField(ProtobufWriter w, int number, JsonProperty property)
    {
        var value = property.Value;
        switch (property.Name)
        {
            case "default" or "example":
                Message(w, number, value, WriteAny);
                break;
            case "enum":
                foreach (var item in value.EnumerateArray())
                {
                    Message(w, number, item, WriteAny);
                }

                break;
            case "required" when value.ValueKind == JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    StringValue(w, number, item.GetString()!);
                }

                break;
            case "items" when value.ValueKind == JsonValueKind.Object:
                Message(w, number, value, WritePrimitivesItems);
                break;
            case "maximum" or "minimum" or "multipleOf" when value.ValueKind == JsonValueKind.Number:
                var d = value.GetDouble();
                if (d != 0)
                {
                    w.WriteTag(number, Fixed64);
                    w.WriteFixed64((ulong)BitConverter.DoubleToInt64Bits(d));
                }

                break;
            default:
                Scalar(w, number, value);
                break;
        }
    }

    private static void WriteSecurityRequirement(ProtobufWriter w, JsonElement requirement) =>
        NamedEntries(w, 1, requirement, static (w, scopes) => Strings(w, 1, scopes));

    private static void WriteSecurityDefinition(ProtobufWriter w, JsonElement definition)
    {
        var type = definition.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "apiKey")
        {
            Message(w, 2, definition, static (w, d) =>
            {
                String(w, 1, d, "type");
                String(w, 2, d, "name");
                String(w, 3, d, "in");
                String(w, 4, d, "description");
                VendorExtensions(w, 5, d);
            });
        }
        else if (type == "basic")
        {
            Message(w, 1, definition, static (w, d) =>
            {
                String(w, 1, d, "type");
                String(w, 2, d, "description");
                VendorExtensions(w, 3, d);
            });
        }
    }

    /// <summary>An Any: the value as YAML text (field 2).</summary>
    private static void WriteAny(ProtobufWriter w, JsonElement value) => StringValue(w, 2, value.GetRawText() + "\n");

    private static bool IsVendorExtension(string name) => name.StartsWith("x-", StringComparison.Ordinal);

    private static void VendorExtensions(ProtobufWriter w, int field, JsonElement owner)
    {
        foreach (var property in owner.EnumerateObject().Where(p => IsVendorExtension(p.Name)))
        {
            Message(w, field, property, static (w, p) =>
            {
                StringValue(w, 1, p.Name);
                Message(w, 2, p.Value, WriteAny);
            });
        }
    }

    /// <summary>A JSON object as repeated Named* messages: name (1) and value (2).</summary>
    private static void NamedEntries(ProtobufWriter w, int field, JsonElement map, Action<ProtobufWriter, JsonElement> writeValue)
    {
        foreach (var entry in map.EnumerateObject())
        {
            Message(w, field, entry, (w, e) =>
            {
                StringValue(w, 1, e.Name);
                Message(w, 2, e.Value, writeValue);
            });
        }
    }

    private static void Message<T>(ProtobufWriter w, int field, T value, Action<ProtobufWriter, T> write)
    {
        var inner = new ProtobufWriter();
        write(inner, value);
        w.WriteTag(field, LengthDelimited);
        w.WriteBytes(inner.WrittenSpan);
    }

    private static void String(ProtobufWriter w, int field, JsonElement owner, string name)
    {
        if (owner.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
        {
            StringValue(w, field, value.GetString()!);
        }
    }

    private static void StringValue(ProtobufWriter w, int field, string value)
    {
        if (value.Length > 0)
        {
            w.WriteTag(field, LengthDelimited);
            w.WriteString(value);
        }
    }

    private static void Strings(ProtobufWriter w, int field, JsonElement owner, string name)
    {
        if (owner.TryGetProperty(name, out var values) && values.ValueKind == JsonValueKind.Array)
        {
            Strings(w, field, values);
        }
    }

    private static void Strings(ProtobufWriter w, int field, JsonElement values)
    {
        foreach (var value in values.EnumerateArray())
        {
            // Repeated strings keep empty entries (only singular fields drop their default).
            w.WriteTag(field, LengthDelimited);
            w.WriteString(value.GetString() ?? string.Empty);
        }
    }

    private static void Bool(ProtobufWriter w, int field, JsonElement owner, string name)
    {
        if (owner.TryGetProperty(name, out var value))
        {
            Scalar(w, field, value);
        }
    }

    /// <summary>A string, boolean or integer field; the default value is left out as proto3 does.</summary>
    private static void Scalar(ProtobufWriter w, int field, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                StringValue(w, field, value.GetString()!);
                break;
            case JsonValueKind.True:
                w.WriteTag(field, Varint);
                w.WriteVarint(1);
                break;
            case JsonValueKind.Number when value.TryGetInt64(out var n) && n != 0:
                w.WriteTag(field, Varint);
                w.WriteVarint((ulong)n);
                break;
        }
    }
}
