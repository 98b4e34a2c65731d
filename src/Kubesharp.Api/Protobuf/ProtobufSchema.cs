using System.Text.Json;

namespace Kubesharp.Api.Protobuf;

/// <summary>
/// The protobuf wire contract of the built-in API (message fields, numbers, types) and the message
/// serving each apiVersion/kind, loaded from the table the generator embeds.
/// </summary>
public static class ProtobufSchema
{
    public const string TimeMessage = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
    public const string MicroTimeMessage = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
    public const string DurationMessage = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration";
    public const string FieldsV1Message = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1";
    public const string QuantityMessage = "k8s.io.apimachinery.pkg.api.resource.Quantity";
    public const string IntOrStringMessage = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
    public const string RawExtensionMessage = "k8s.io.apimachinery.pkg.runtime.RawExtension";

    private static readonly Lazy<Model> Loaded = new(Load);

    public static IReadOnlyDictionary<string, ProtobufMessage> Messages => Loaded.Value.Messages;

    public static ProtobufMessage? Message(string name) => Loaded.Value.Messages.GetValueOrDefault(name);

    /// <summary>The message of an apiVersion (group/version, or v1 for core) and kind, or null when none is known.</summary>
    public static ProtobufMessage? ForKind(string apiVersion, string kind) =>
        Loaded.Value.Kinds.TryGetValue(apiVersion + "/" + kind, out var name) ? Message(name) : null;

    /// <summary>The message of a structural-schema definition (io.k8s.api.core.v1.Pod → k8s.io.api.core.v1.Pod).</summary>
    public static ProtobufMessage? ForDefinition(string definitionName) =>
        definitionName.StartsWith("io.k8s.", StringComparison.Ordinal) ? Message("k8s.io." + definitionName["io.k8s.".Length..]) : null;

    private sealed record Model(IReadOnlyDictionary<string, ProtobufMessage> Messages, IReadOnlyDictionary<string, string> Kinds);

    private static Model Load()
    {
        using var stream = typeof(ProtobufSchema).Assembly.GetManifestResourceStream("Kubesharp.Api.ProtobufSchema.json")
            ?? throw new InvalidOperationException("the embedded protobuf schema is missing");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var kinds = root.GetProperty("kinds").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        var lists = root.GetProperty("lists").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        var messages = new Dictionary<string, ProtobufMessage>(StringComparer.Ordinal);
        foreach (var message in root.GetProperty("messages").EnumerateObject())
        {
            var fields = new List<ProtobufField>();
            foreach (var f in message.Value.EnumerateArray())
            {
                var mode = f.GetArrayLength() > 4 ? f[4].GetString() : null;
                var kind = mode switch
                {
                    "repeated" => ProtobufFieldKind.Repeated,
                    "map" => ProtobufFieldKind.Map,
                    _ => ProtobufFieldKind.Singular,
                };
                fields.Add(new ProtobufField(f[0].GetInt32(), f[1].GetString()!, f[2].GetString()!, f[3].GetString()!, kind, kind == ProtobufFieldKind.Map ? f[5].GetString() : null, mode == "omitempty"));
            }

            messages.Add(message.Name, new ProtobufMessage(message.Name, fields, lists.Contains(message.Name)));
        }

        return new Model(messages, kinds);
    }
}
