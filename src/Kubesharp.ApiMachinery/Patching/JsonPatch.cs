using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Patching;

/// <summary>
/// JSON Patch (RFC 6902): add, remove, replace, move, copy and test on a JSON tree. A malformed patch is a
/// 400 BadRequest, too many operations a 413, an operation that does not apply a 422 Invalid.
/// </summary>
public static class JsonPatch
{
    /// <summary>Upstream's cap on operations per patch.</summary>
    public const int MaxOperations = 10000;

    /// <summary>Applies <paramref name="patch"/> (a JSON array of operations) to a copy of <paramref name="document"/>.</summary>
    public static JsonNode? Apply(JsonNode? document, JsonNode? patch, PatchLimits? limits = null)
    {
        limits ??= PatchLimits.Default;
        if (patch is not JsonArray operations)
        {
            throw StatusException.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        if (operations.Count > MaxOperations)
        {
            throw StatusException.RequestEntityTooLarge(
                string.Create(CultureInfo.InvariantCulture, $"The allowed maximum operations in a JSON patch is {MaxOperations}, got {operations.Count}"));
        }

        var root = new JsonArray(JsonTree.Clone(document));
        long copied = 0;
        foreach (var node in operations)
        {
            if (node is not JsonObject operation)
            {
                throw StatusException.BadRequest("json: cannot unmarshal non-object into Go value of type jsonpatch.Operation");
            }

            var op = JsonTree.AsString(operation["op"]) ?? "";
            var path = RequiredPath(operation, "path", op);
            switch (op)
            {
                case "add":
                    Add(root, path, Value(operation, op), op);
                    break;
                case "remove":
                    Remove(root, path, op);
                    break;
                case "replace":
                    Replace(root, path, Value(operation, op));
                    break;
                case "move":
                    var from = RequiredPath(operation, "from", op);
                    if (path.StartsWith(from + "/", StringComparison.Ordinal))
                    {
                        throw Unprocessable($"move operation does not apply: cannot move {from} into its own child {path}");
                    }

                    if (!string.Equals(from, path, StringComparison.Ordinal))
                    {
                        var moved = Remove(root, from, "move", isFrom: true);
                        Add(root, path, moved, op);
                    }

                    break;
                case "copy":
                    var source = RequiredPath(operation, "from", op);
                    var (container, key) = Locate(root, source, op, isFrom: true);
                    var value = Get(container, key, source, op, isFrom: true);

                    // Priced before the copy is made: repeated self-copies double the document each time.
                    copied += JsonSize.Measure(value, limits.MaxCopyBytes - copied + 1);
                    if (copied > limits.MaxCopyBytes)
                    {
                        throw Unprocessable(string.Create(CultureInfo.InvariantCulture,
                            $"Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {limits.MaxCopyBytes}"));
                    }

                    Add(root, path, JsonTree.Clone(value), op);
                    break;
                case "test":
                    Test(root, path, operation.TryGetPropertyValue("value", out var expected) ? expected : null);
                    break;
                default:
                    throw StatusException.BadRequest($"Unexpected kind: {op}");
            }
        }

        var result = root[0];
        root.Clear();
        limits.CheckResult(result);
        return result;
    }

    private static string RequiredPath(JsonObject operation, string name, string op) =>
        JsonTree.AsString(operation[name]) ?? throw StatusException.BadRequest($"{op} operation is missing {name} field");

    private static JsonNode? Value(JsonObject operation, string op) =>
        operation.TryGetPropertyValue("value", out var value)
            ? JsonTree.Clone(value)
            : throw StatusException.BadRequest($"{op} operation is missing value field");

    private static void Add(JsonArray root, string path, JsonNode? value, string op)
    {
        var (container, key) = Locate(root, path, op, isFrom: false, forAdd: true);
        switch (container)
        {
            case JsonObject obj:
                obj[key] = value;
                break;
            case JsonArray array when ReferenceEquals(array, root):
                array[0] = value;
                break;
            case JsonArray array:
                if (key == "-")
                {
                    array.Add(value);
                    break;
                }

                var index = Index(key, array.Count, allowEnd: true);
                array.Insert(index, value);
                break;
            default:
                throw Unprocessable($"{op} operation does not apply: doc is missing path: {QuotedString.Quote(path)}: missing value");
        }
    }

    private static JsonNode? Remove(JsonArray root, string path, string op, bool isFrom = false)
    {
        var (container, key) = Locate(root, path, op, isFrom);
        var value = Get(container, key, path, op, isFrom);
        switch (container)
        {
            case JsonObject obj:
                obj.Remove(key);
                break;
            case JsonArray array when ReferenceEquals(array, root):
                array[0] = null;
                break;
            case JsonArray array:
                array.RemoveAt(Index(key, array.Count, allowEnd: false));
                break;
        }

        return value;
    }

    private static void Replace(JsonArray root, string path, JsonNode? value)
    {
        var (container, key) = Locate(root, path, "replace", isFrom: false);

        // Upstream's JSON patch library replaces an absent member of an existing object as if it were there
        // (clients cordon with replace /spec/unschedulable); a missing parent or array index still fails.
        if (container is not JsonObject)
        {
            _ = Get(container, key, path, "replace", isFrom: false);
        }

        switch (container)
        {
            case JsonObject obj:
                obj[key] = value;
                break;
            case JsonArray array when ReferenceEquals(array, root):
                array[0] = value;
                break;
            case JsonArray array:
                array[Index(key, array.Count, allowEnd: false)] = value;
                break;
        }
    }

    private static void Test(JsonArray root, string path, JsonNode? expected)
    {
        JsonNode? actual;
        try
        {
            var (container, key) = Locate(root, path, "test", isFrom: false);
            actual = Get(container, key, path, "test", isFrom: false);
        }
        catch (StatusException)
        {
            throw Unprocessable($"testing value {path} failed: test failed");
        }

        if (!JsonTree.DeepEquals(actual, expected))
        {
            throw Unprocessable($"testing value {path} failed: test failed");
        }
    }

    private static JsonNode? Get(JsonNode? container, string key, string path, string op, bool isFrom)
    {
        switch (container)
        {
            case JsonObject obj when obj.TryGetPropertyValue(key, out var value):
                return value;
            case JsonArray array when key.Length == 0 && array.Parent is null && array.Count == 1:
                return array[0];
            case JsonArray array when key.Length > 0:
                return array[Index(key, array.Count, allowEnd: false)];
            default:
                var what = isFrom ? "from path" : "path";
                throw Unprocessable($"{op} operation does not apply: doc is missing {what}: {QuotedString.Quote(path)}: missing value");
        }
    }

    /// <summary>Finds the container holding the last token of <paramref name="path"/>; the root is wrapped in an array.</summary>
    private static (JsonNode? Container, string Key) Locate(JsonArray root, string path, string op, bool isFrom, bool forAdd = false)
    {
        if (path.Length == 0)
        {
            return (root, "");
        }

        if (path[0] != '/')
        {
            throw Unprocessable($"{op} operation does not apply: invalid JSON pointer {QuotedString.Quote(path)}");
        }

        var tokens = path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        JsonNode? current = root[0];
        for (var i = 0; i < tokens.Length - 1; i++)
        {
            current = current switch
            {
                JsonObject obj when obj.TryGetPropertyValue(tokens[i], out var next) => next,
                JsonArray array when tokens[i] != "-" => array[Index(tokens[i], array.Count, allowEnd: false)],
                _ => throw Unprocessable($"{op} operation does not apply: doc is missing {(isFrom ? "from path" : "path")}: {QuotedString.Quote(path)}: missing value"),
            };
        }

        if (current is not (JsonObject or JsonArray))
        {
            throw Unprocessable($"{op} operation does not apply: doc is missing {(isFrom ? "from path" : "path")}: {QuotedString.Quote(path)}: missing value");
        }

        _ = forAdd;
        return (current, tokens[^1]);
    }

    private static int Index(string token, int count, bool allowEnd)
    {
        if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            throw Unprocessable($"Unable to access invalid index: {token}: invalid index referenced");
        }

        if (index > count || (!allowEnd && index == count))
        {
            throw Unprocessable(string.Create(CultureInfo.InvariantCulture, $"Unable to access invalid index: {index}: invalid index referenced"));
        }

        return index;
    }

    private static StatusException Unprocessable(string message) => StatusException.Unprocessable(message);
}
