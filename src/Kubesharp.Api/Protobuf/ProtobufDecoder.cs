using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Api.Protobuf;

/// <summary>
/// Decodes Kubernetes protobuf bodies into the JSON the API server works with, the way upstream's
/// JSON encoding shows the same object: Time as RFC 3339, Quantity and IntOrString by value, bytes
/// as base64, maps as objects, embedded structs inline, unknown field numbers skipped.
/// </summary>
/// <remarks>
/// Generated marshallers write fields held by value in Go even when zero; JSON's omitempty drops those
/// zeros, so the decoder drops them too (fields the table marks OmitsZero). A pointer field's zero is
/// meaningful (replicas: 0, enableServiceLinks: false) and stays.
/// </remarks>
public static class ProtobufDecoder
{
    private const int MaxDepth = 100;

    /// <summary>Decodes an enveloped object (magic, runtime.Unknown), filling apiVersion and kind from its typeMeta.</summary>
    public static JsonObject DecodeEnvelope(ReadOnlySpan<byte> bytes)
    {
        if (!ProtobufEnvelope.HasMagic(bytes))
        {
            throw new ProtobufFormatException("the body does not start with the Kubernetes protobuf magic");
        }

        var reader = new ProtobufReader(bytes[ProtobufEnvelope.Magic.Length..]);
        string apiVersion = string.Empty, kind = string.Empty, contentEncoding = string.Empty, contentType = string.Empty;
        ReadOnlySpan<byte> raw = default;
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            switch (number)
            {
                case 1 when wireType == ProtobufReader.LengthDelimited:
                    var typeMeta = new ProtobufReader(reader.ReadLengthDelimited());
                    while (!typeMeta.End)
                    {
                        var (n, w) = typeMeta.ReadTag();
                        if (n is 1 or 2 && w == ProtobufReader.LengthDelimited)
                        {
                            var value = Utf8(typeMeta.ReadLengthDelimited());
                            if (n == 1)
                            {
                                apiVersion = value;
                            }
                            else
                            {
                                kind = value;
                            }
                        }
                        else
                        {
                            typeMeta.Skip(w);
                        }
                    }

                    break;
                case 2 when wireType == ProtobufReader.LengthDelimited:
                    raw = reader.ReadLengthDelimited();
                    break;
                case 3 when wireType == ProtobufReader.LengthDelimited:
                    contentEncoding = Utf8(reader.ReadLengthDelimited());
                    break;
                case 4 when wireType == ProtobufReader.LengthDelimited:
                    contentType = Utf8(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        if (contentEncoding.Length > 0)
        {
            throw new ProtobufFormatException($"unsupported content encoding \"{contentEncoding}\"");
        }

        if (contentType.Length > 0 && contentType != ProtobufEnvelope.MediaType)
        {
            throw new ProtobufFormatException($"unsupported embedded content type \"{contentType}\"");
        }

        if (kind.Length == 0)
        {
            throw new ProtobufFormatException("Object 'Kind' is missing in the protobuf envelope");
        }

        var message = ProtobufSchema.ForKind(apiVersion, kind)
            ?? throw new ProtobufFormatException($"no protobuf message is known for {apiVersion}, Kind={kind}");
        var result = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        DecodeInto(result, raw, message, 0);
        result["apiVersion"] = apiVersion;
        result["kind"] = kind;
        return result;
    }

    /// <summary>Decodes one message (no envelope).</summary>
    public static JsonObject Decode(ReadOnlySpan<byte> raw, ProtobufMessage message)
    {
        var result = new JsonObject();
        DecodeInto(result, raw, message, 0);
        return result;
    }

    private static void DecodeInto(JsonObject target, ReadOnlySpan<byte> data, ProtobufMessage message, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufFormatException($"the object is nested deeper than {MaxDepth} levels");
        }

        var reader = new ProtobufReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (message.FieldByNumber(number) is not { } field || (field.IsMessage && ProtobufSchema.Message(field.Type) is null && !IsSpecial(field.Type)))
            {
                reader.Skip(wireType);
                continue;
            }

            switch (field.Kind)
            {
                case ProtobufFieldKind.Map:
                    Expect(field, wireType, ProtobufReader.LengthDelimited);
                    var map = target[field.JsonName] as JsonObject ?? [];
                    target[field.JsonName] = map;
                    var (key, value) = DecodeMapEntry(field, reader.ReadLengthDelimited(), depth + 1);
                    map[key] = value;
                    break;
                case ProtobufFieldKind.Repeated:
                    var list = target[field.JsonName] as JsonArray ?? [];
                    target[field.JsonName] = list;
                    if (wireType == ProtobufReader.LengthDelimited && IsPackable(field.Type))
                    {
                        var packed = new ProtobufReader(reader.ReadLengthDelimited());
                        while (!packed.End)
                        {
                            list.Add(ReadScalar(ref packed, field, WireTypeOf(field.Type)));
                        }
                    }
                    else
                    {
                        list.Add(ReadValue(ref reader, field, wireType, depth + 1));
                    }

                    break;
                default:
                    if (field.IsInline)
                    {
                        Expect(field, wireType, ProtobufReader.LengthDelimited);
                        DecodeInto(target, reader.ReadLengthDelimited(), ProtobufSchema.Message(field.Type)!, depth + 1);
                        break;
                    }

                    var node = ReadValue(ref reader, field, wireType, depth + 1);
                    if (field.OmitsZero && IsZero(node))
                    {
                        target.Remove(field.JsonName);
                    }
                    else
                    {
                        target[field.JsonName] = node;
                    }

                    break;
            }
        }
    }

    private static bool IsZero(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>().Length == 0,
        JsonValueKind.False => true,
        JsonValueKind.Number => node.ToJsonString() is "0" or "-0",
        _ => false,
    };

    private static (string Key, JsonNode? Value) DecodeMapEntry(ProtobufField field, ReadOnlySpan<byte> data, int depth)
    {
        var keyField = new ProtobufField(1, "key", "key", field.KeyType ?? "string", ProtobufFieldKind.Singular, null);
        var valueField = field with { Number = 2, Kind = ProtobufFieldKind.Singular, KeyType = null };
        JsonNode? key = null, value = null;
        var seenValue = false;
        var reader = new ProtobufReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            switch (number)
            {
                case 1:
                    key = ReadValue(ref reader, keyField, wireType, depth);
                    break;
                case 2:
                    value = ReadValue(ref reader, valueField, wireType, depth);
                    seenValue = true;
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        if (!seenValue)
        {
            value = DefaultValue(valueField, depth);
        }

        var keyText = key switch
        {
            null => string.Empty,
            JsonValue k when k.TryGetValue<string>(out var s) => s,
            _ => key.ToJsonString(),
        };
        return (keyText, value);
    }

    private static JsonNode? DefaultValue(ProtobufField field, int depth)
    {
        if (field.IsMessage)
        {
            return DecodeMessageValue([], field.Type, depth);
        }

        return field.Type switch
        {
            "string" or "bytes" => JsonValue.Create(string.Empty),
            "bool" => JsonValue.Create(false),
            _ => JsonValue.Create(0),
        };
    }

    private static JsonNode? ReadValue(ref ProtobufReader reader, ProtobufField field, int wireType, int depth)
    {
        if (field.IsMessage)
        {
            Expect(field, wireType, ProtobufReader.LengthDelimited);
            return DecodeMessageValue(reader.ReadLengthDelimited(), field.Type, depth);
        }

        return ReadScalar(ref reader, field, wireType);
    }

    private static JsonNode? ReadScalar(ref ProtobufReader reader, ProtobufField field, int wireType)
    {
        Expect(field, wireType, WireTypeOf(field.Type));
        return field.Type switch
        {
            "string" => JsonValue.Create(Utf8(reader.ReadLengthDelimited())),
            "bytes" => JsonValue.Create(Convert.ToBase64String(reader.ReadLengthDelimited())),
            "bool" => JsonValue.Create(reader.ReadVarint() != 0),
            "int32" or "enum" => JsonValue.Create((int)reader.ReadVarint()),
            "int64" => JsonValue.Create((long)reader.ReadVarint()),
            "uint32" => JsonValue.Create((uint)reader.ReadVarint()),
            "uint64" => JsonValue.Create(reader.ReadVarint()),
            "sint32" => JsonValue.Create((int)ZigZag(reader.ReadVarint())),
            "sint64" => JsonValue.Create(ZigZag(reader.ReadVarint())),
            "fixed32" => JsonValue.Create(reader.ReadFixed32()),
            "sfixed32" => JsonValue.Create((int)reader.ReadFixed32()),
            "fixed64" => JsonValue.Create(reader.ReadFixed64()),
            "sfixed64" => JsonValue.Create((long)reader.ReadFixed64()),
            "float" => Finite(BitConverter.UInt32BitsToSingle(reader.ReadFixed32())),
            "double" => Finite(BitConverter.UInt64BitsToDouble(reader.ReadFixed64())),
            _ => throw new ProtobufFormatException($"field {field.Name} has an unsupported type {field.Type}"),
        };
    }

    private static JsonNode? DecodeMessageValue(ReadOnlySpan<byte> data, string type, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufFormatException($"the object is nested deeper than {MaxDepth} levels");
        }

        switch (type)
        {
            case ProtobufSchema.TimeMessage:
                return data.IsEmpty ? null : FormatTime(data, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'");
            case ProtobufSchema.MicroTimeMessage:
                return data.IsEmpty ? null : FormatTime(data, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'");
            case ProtobufSchema.DurationMessage:
                return JsonValue.Create(GoDuration.Format(ReadInt64Field(data, 1)));
            case ProtobufSchema.QuantityMessage:
                var quantity = ReadStringField(data, 1);
                return JsonValue.Create(quantity.Length == 0 ? "0" : quantity);
            case ProtobufSchema.IntOrStringMessage:
                return ReadInt64Field(data, 1) == 1 ? JsonValue.Create(ReadStringField(data, 3)) : JsonValue.Create((int)ReadInt64Field(data, 2));
            case ProtobufSchema.RawExtensionMessage:
                return Embedded(ReadBytesField(data, 1));
            case ProtobufSchema.FieldsV1Message:
                return Embedded(ReadBytesField(data, 1));
        }

        var message = ProtobufSchema.Message(type) ?? throw new ProtobufFormatException($"unknown message type {type}");
        var obj = new JsonObject();
        DecodeInto(obj, data, message, depth + 1);
        if (message.IsList)
        {
            var items = obj["items"] as JsonArray ?? [];
            obj.Remove("items");
            return items;
        }

        return obj;
    }

    private static bool IsSpecial(string type) => type is ProtobufSchema.TimeMessage or ProtobufSchema.MicroTimeMessage or ProtobufSchema.DurationMessage
        or ProtobufSchema.QuantityMessage or ProtobufSchema.IntOrStringMessage or ProtobufSchema.RawExtensionMessage or ProtobufSchema.FieldsV1Message;

    /// <summary>Embedded raw bytes: an enveloped protobuf object or JSON.</summary>
    private static JsonNode? Embedded(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            return null;
        }

        if (ProtobufEnvelope.HasMagic(raw))
        {
            return DecodeEnvelope(raw);
        }

        try
        {
            return JsonNode.Parse(raw, null, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            throw new ProtobufFormatException("embedded raw object is neither protobuf nor JSON: " + ex.Message, ex);
        }
    }

    private static JsonValue FormatTime(ReadOnlySpan<byte> data, string format)
    {
        var seconds = ReadInt64Field(data, 1);
        var nanos = ReadInt64Field(data, 2);
        if (seconds < -62135596800 || seconds > 253402300799 || nanos is < 0 or > 999_999_999)
        {
            throw new ProtobufFormatException($"timestamp out of range: {seconds}s {nanos}ns");
        }

        var time = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
        return JsonValue.Create(time.UtcDateTime.ToString(format, CultureInfo.InvariantCulture));
    }

    private static long ReadInt64Field(ReadOnlySpan<byte> data, int number)
    {
        long value = 0;
        var reader = new ProtobufReader(data);
        while (!reader.End)
        {
            var (n, w) = reader.ReadTag();
            if (n == number && w == ProtobufReader.Varint)
            {
                value = (long)reader.ReadVarint();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    private static ReadOnlySpan<byte> ReadBytesField(ReadOnlySpan<byte> data, int number)
    {
        ReadOnlySpan<byte> value = default;
        var reader = new ProtobufReader(data);
        while (!reader.End)
        {
            var (n, w) = reader.ReadTag();
            if (n == number && w == ProtobufReader.LengthDelimited)
            {
                value = reader.ReadLengthDelimited();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    private static string ReadStringField(ReadOnlySpan<byte> data, int number) => Utf8(ReadBytesField(data, number));

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new ProtobufFormatException("a string field is not valid UTF-8", ex);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static JsonValue Finite(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : throw new ProtobufFormatException("a number is not finite");

    private static bool IsPackable(string type) => type is not ("string" or "bytes") && !type.Contains('.', StringComparison.Ordinal);

    internal static int WireTypeOf(string type) => type switch
    {
        "fixed64" or "sfixed64" or "double" => ProtobufReader.Fixed64,
        "fixed32" or "sfixed32" or "float" => ProtobufReader.Fixed32,
        "string" or "bytes" => ProtobufReader.LengthDelimited,
        _ when type.Contains('.', StringComparison.Ordinal) => ProtobufReader.LengthDelimited,
        _ => ProtobufReader.Varint,
    };

    private static void Expect(ProtobufField field, int actual, int expected)
    {
        if (actual != expected)
        {
            throw new ProtobufFormatException($"field {field.Name} ({field.Number}) has wire type {actual}, expected {expected}");
        }
    }
}
