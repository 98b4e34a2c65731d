using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Writes the protobuf wire contract of the built-in API (message names, field names, numbers and
/// types; nothing else) as a compact JSON resource of Kubesharp.Api, plus the group-version-kinds
/// each message serves, taken from the already generated structural schema.
/// </summary>
internal sealed class ProtobufEmitter(IReadOnlyList<FileDescriptorProto> files, string repositoryRoot, GeneratedOutput output)
{
    public const string OutputPath = "src/Kubesharp.Api/Protobuf/ProtobufSchema.g.json";

    public int MessageCount { get; private set; }

    public IReadOnlyList<string> Emit()
    {
        var messages = new SortedDictionary<string, DescriptorProto>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var message in file.MessageType)
            {
                Collect(file.Package, message, messages);
            }
        }

        var mapEntries = messages.Where(m => m.Value.Options?.MapEntry == true).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
        var warnings = new List<string>();
        using var schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(repositoryRoot, "src/Kubesharp.Api/ApiSchema.g.json")));
        var kinds = Kinds(schema.RootElement, messages.Keys.ToHashSet(StringComparer.Ordinal));
        var lists = messages
            .Where(m => m.Value.Field.Count == 1 && m.Value.Field[0].Name == "items" && m.Value.Field[0].Label == FieldDescriptorProto.Types.Label.Repeated
                && !schema.RootElement.TryGetProperty(DefinitionName(m.Key), out _))
            .Select(m => m.Key)
            .ToList();

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartObject("kinds");
            foreach (var (kind, message) in kinds)
            {
                w.WriteString(kind, message);
            }

            w.WriteEndObject();
            w.WriteStartArray("lists");
            foreach (var list in lists)
            {
                w.WriteStringValue(list);
            }

            w.WriteEndArray();
            w.WriteStartObject("messages");
            foreach (var (name, message) in messages)
            {
                if (mapEntries.ContainsKey(name))
                {
                    continue;
                }

                MessageCount++;
                w.WriteStartArray(name);
                var hasDefinition = schema.RootElement.TryGetProperty(DefinitionName(name), out var definition);
                var properties = hasDefinition && definition.TryGetProperty("properties", out var p) ? p : default;
                var required = hasDefinition && definition.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal) : [];
                foreach (var field in message.Field.OrderBy(f => f.Number))
                {
                    var jsonName = JsonName(name, field, properties, messages, warnings);
                    WriteField(w, field, jsonName, OmitsZero(field) && !required.Contains(jsonName), mapEntries);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        output.Add(OutputPath, Encoding.UTF8.GetString(stream.ToArray()) + "\n");
        return warnings;
    }

    private static void Collect(string scope, DescriptorProto message, SortedDictionary<string, DescriptorProto> messages)
    {
        var name = scope + "." + message.Name;
        messages[name] = message;
        foreach (var nested in message.NestedType)
        {
            Collect(name, nested, messages);
        }
    }

    private static string DefinitionName(string message) =>
        message.StartsWith("k8s.io.", StringComparison.Ordinal) ? "io.k8s." + message["k8s.io.".Length..] : message;

    /// <summary>
    /// The JSON name of a Kubernetes proto field is nearly always its proto name. The exceptions are
    /// Go-embedded structs (inlined in JSON: written as the empty name) and a few fields whose proto
    /// name differs from the JSON name only in case; the JSON schema tells them apart.
    /// </summary>
    private static string JsonName(string message, FieldDescriptorProto field, JsonElement properties, SortedDictionary<string, DescriptorProto> messages, List<string> warnings)
    {
        if (properties.ValueKind != JsonValueKind.Object || properties.TryGetProperty(field.Name, out _))
        {
            return field.Name;
        }

        foreach (var property in properties.EnumerateObject())
        {
            if (string.Equals(property.Name, field.Name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Name;
            }
        }

        if (field.Type == FieldDescriptorProto.Types.Type.Message && field.Label != FieldDescriptorProto.Types.Label.Repeated
            && messages.TryGetValue(field.TypeName.TrimStart('.'), out var embedded)
            && embedded.Field.Any(f => properties.TryGetProperty(f.Name, out _)))
        {
            return string.Empty;
        }

        warnings.Add($"{message}.{field.Name} ({field.Number}) has no JSON property of that name");
        return field.Name;
    }

    /// <summary>
    /// A scalar held by value in Go (gogoproto.nullable=false among the field's options, extension 65001)
    /// is written even when zero; its JSON form omits the zero, unlike a pointer's, whose zero is meaningful.
    /// </summary>
    private static bool OmitsZero(FieldDescriptorProto field)
    {
        if (field.Label == FieldDescriptorProto.Types.Label.Repeated || field.Type is FieldDescriptorProto.Types.Type.Message or FieldDescriptorProto.Types.Type.Group || field.Options is null)
        {
            return false;
        }

        var input = new CodedInputStream(field.Options.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == WireFormat.MakeTag(65001, WireFormat.WireType.Varint))
            {
                return !input.ReadBool();
            }

            input.SkipLastField();
        }

        return false;
    }

    private static void WriteField(Utf8JsonWriter w, FieldDescriptorProto field, string jsonName, bool omitsZero, Dictionary<string, DescriptorProto> mapEntries)
    {
        w.WriteStartArray();
        w.WriteNumberValue(field.Number);
        w.WriteStringValue(field.Name);
        w.WriteStringValue(jsonName);
        var repeated = field.Label == FieldDescriptorProto.Types.Label.Repeated;
        if (repeated && field.Type == FieldDescriptorProto.Types.Type.Message && mapEntries.TryGetValue(field.TypeName.TrimStart('.'), out var entry))
        {
            var key = entry.Field.Single(f => f.Number == 1);
            var value = entry.Field.Single(f => f.Number == 2);
            w.WriteStringValue(TypeOf(value));
            w.WriteStringValue("map");
            w.WriteStringValue(TypeOf(key));
        }
        else
        {
            w.WriteStringValue(TypeOf(field));
            if (repeated)
            {
                w.WriteStringValue("repeated");
            }
            else if (omitsZero)
            {
                w.WriteStringValue("omitempty");
            }
        }

        w.WriteEndArray();
    }

    private static string TypeOf(FieldDescriptorProto field) => field.Type switch
    {
        FieldDescriptorProto.Types.Type.Message or FieldDescriptorProto.Types.Type.Group => field.TypeName.TrimStart('.'),
        FieldDescriptorProto.Types.Type.Enum => "enum",
        var scalar => scalar.ToString().ToLowerInvariant(),
    };

    /// <summary>apiVersion/kind → message, for every definition of the structural schema that has a message.</summary>
    private static SortedDictionary<string, string> Kinds(JsonElement schema, HashSet<string> messages)
    {
        var kinds = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var definition in schema.EnumerateObject())
        {
            if (!definition.Name.StartsWith("io.k8s.", StringComparison.Ordinal))
            {
                continue;
            }

            var message = "k8s.io." + definition.Name["io.k8s.".Length..];
            if (!messages.Contains(message))
            {
                continue;
            }

            if (!definition.Value.TryGetProperty("gvk", out var gvks))
            {
                continue;
            }

            foreach (var gvk in gvks.EnumerateArray())
            {
                var group = gvk[0].GetString()!;
                var apiVersion = group.Length == 0 ? gvk[1].GetString()! : group + "/" + gvk[1].GetString();
                kinds.TryAdd(apiVersion + "/" + gvk[2].GetString(), message);
            }
        }

        return kinds;
    }
}
