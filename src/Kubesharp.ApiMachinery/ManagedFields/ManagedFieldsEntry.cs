using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>One entry of <c>metadata.managedFields</c>: which manager owns which fields, by which operation.</summary>
public sealed record ManagedFieldsEntry
{
    public const string ApplyOperation = "Apply";
    public const string UpdateOperation = "Update";

    public required string Manager { get; init; }

    /// <summary><see cref="ApplyOperation"/> or <see cref="UpdateOperation"/>.</summary>
    public required string Operation { get; init; }

    public required string ApiVersion { get; init; }

    public DateTimeOffset? Time { get; init; }

    /// <summary>Empty for the main resource, else e.g. <c>status</c> or <c>scale</c>.</summary>
    public string Subresource { get; init; } = "";

    public required FieldSet Fields { get; init; }

    /// <summary>
    /// Who the entry belongs to: appliers are one manager whatever apiVersion they apply with, updaters are
    /// distinguished by apiVersion too (upstream's manager identifier without time).
    /// </summary>
    internal (string Manager, string Operation, string ApiVersion, string Subresource) Identity =>
        (Manager, Operation, Operation == ApplyOperation ? "" : ApiVersion, Subresource);

    /// <summary>The manager as conflict messages print it: <c>"kubectl"</c> or <c>"kube-controller-manager" using apps/v1</c>.</summary>
    public string Describe()
    {
        var text = QuotedString.Quote(Manager);
        if (Subresource.Length > 0)
        {
            text += $" with subresource {QuotedString.Quote(Subresource)}";
        }

        return Operation == UpdateOperation ? $"{text} using {ApiVersion}" : text;
    }

    /// <summary>Reads <c>metadata.managedFields</c> of an object; malformed entries are a 400 BadRequest.</summary>
    public static List<ManagedFieldsEntry> Read(JsonObject? obj)
    {
        var entries = new List<ManagedFieldsEntry>();
        if (obj?["metadata"]?["managedFields"] is not JsonArray array)
        {
            return entries;
        }

        foreach (var node in array)
        {
            if (node is not JsonObject entry)
            {
                throw StatusException.BadRequest("invalid managedFields: entries must be objects");
            }

            var operation = JsonTree.AsString(entry["operation"]) ?? "";
            if (operation is not (ApplyOperation or UpdateOperation))
            {
                throw StatusException.BadRequest($"invalid managedFields: operation must be Apply or Update, got {QuotedString.Quote(operation)}");
            }

            var fieldsType = JsonTree.AsString(entry["fieldsType"]);
            if (fieldsType is not null and not "FieldsV1")
            {
                throw StatusException.BadRequest($"invalid managedFields: fieldsType must be FieldsV1, got {QuotedString.Quote(fieldsType)}");
            }

            DateTimeOffset? time = null;
            if (JsonTree.AsString(entry["time"]) is { } text)
            {
                time = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                    ? parsed
                    : throw StatusException.BadRequest($"invalid managedFields: bad time {QuotedString.Quote(text)}");
            }

            entries.Add(new ManagedFieldsEntry
            {
                Manager = JsonTree.AsString(entry["manager"]) ?? "",
                Operation = operation,
                ApiVersion = JsonTree.AsString(entry["apiVersion"]) ?? "",
                Time = time,
                Subresource = JsonTree.AsString(entry["subresource"]) ?? "",
                Fields = FieldSet.FromFieldsV1(entry["fieldsV1"]),
            });
        }

        return entries;
    }

    /// <summary>Writes entries into <c>metadata.managedFields</c> in upstream's order (Apply first, then by time).</summary>
    public static void Write(JsonObject obj, IEnumerable<ManagedFieldsEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(entries);
        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        var sorted = entries
            .OrderBy(e => e.Operation, StringComparer.Ordinal)
            .ThenBy(e => e.Time?.ToUnixTimeSeconds() ?? 0)
            .ThenBy(e => e.Manager, StringComparer.Ordinal)
            .ThenBy(e => e.ApiVersion, StringComparer.Ordinal)
            .ThenBy(e => e.Subresource, StringComparer.Ordinal)
            .ToList();
        if (sorted.Count == 0)
        {
            metadata.Remove("managedFields");
            return;
        }

        metadata["managedFields"] = new JsonArray(sorted.Select(e => (JsonNode)e.ToJson()).ToArray());
    }

    public JsonObject ToJson()
    {
        var obj = new JsonObject
        {
            ["manager"] = Manager,
            ["operation"] = Operation,
            ["apiVersion"] = ApiVersion,
        };
        if (Time is { } time)
        {
            obj["time"] = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        obj["fieldsType"] = "FieldsV1";
        obj["fieldsV1"] = Fields.ToFieldsV1();
        if (Subresource.Length > 0)
        {
            obj["subresource"] = Subresource;
        }

        return obj;
    }
}
