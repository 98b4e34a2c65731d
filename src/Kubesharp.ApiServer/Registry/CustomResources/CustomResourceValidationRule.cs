using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>One entry of a schema's <c>x-kubernetes-validations</c>.</summary>
internal sealed record CustomResourceValidationRule(string Rule, string Message, string MessageExpression, string? Reason, string FieldPath, bool? OptionalOldSelf)
{
    public static List<CustomResourceValidationRule> Parse(JsonNode? node)
    {
        var rules = new List<CustomResourceValidationRule>();
        if (node is not JsonArray array)
        {
            return rules;
        }

        foreach (var item in array.OfType<JsonObject>())
        {
            rules.Add(new CustomResourceValidationRule(
                Text(item["rule"]),
                Text(item["message"]),
                Text(item["messageExpression"]),
                item["reason"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>() : null,
                Text(item["fieldPath"]),
                item["optionalOldSelf"] is JsonValue o && o.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? o.GetValueKind() == JsonValueKind.True : null));
        }

        return rules;
    }

    /// <summary>The rule as upstream's field errors print it (Go's %#v of apiextensions.ValidationRule).</summary>
    public string GoString() =>
        $"apiextensions.ValidationRule{{Rule:{Quote(Rule)}, Message:{Quote(Message)}, MessageExpression:{Quote(MessageExpression)}, " +
        $"Reason:(*apiextensions.FieldValueErrorReason)({(Reason is null ? "nil" : "0xc000010000")}), FieldPath:{Quote(FieldPath)}, " +
        $"OptionalOldSelf:(*bool)({(OptionalOldSelf is null ? "nil" : "0xc000010008")})}}";

    /// <summary>The rule's message when it fails without a message expression: the message, else "failed rule: {rule}".</summary>
    public string DefaultMessage => Message.Length > 0 ? Message.Trim() : $"failed rule: {Rule.Trim()}";

    /// <summary>How the rule is named in evaluation errors: its message, else its text.</summary>
    public string ErrorString => Message.Length > 0 ? Message.Trim() : Rule.Trim();

    /// <summary>A string as Go's %q writes it.</summary>
    internal static string Quote(string text)
    {
        var builder = new System.Text.StringBuilder("\"");
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    private static string Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty;
}
