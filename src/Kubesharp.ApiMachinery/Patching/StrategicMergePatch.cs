using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Patching;

/// <summary>
/// Strategic merge patch driven by the schema's patch metadata: lists with strategy <c>merge</c> merge by their
/// merge key (or as sets of primitives), other lists and <c>replace</c> fields are replaced, and the directives
/// kubectl sends are honoured (<c>$patch: replace|delete</c>, <c>$retainKeys</c>, <c>$setElementOrder/f</c>,
/// <c>$deleteFromPrimitiveList/f</c>). Where the schema knows nothing (unknown fields, custom resources) it falls
/// back to merge-patch semantics: objects merge, lists replace. Malformed patches are 400 BadRequest.
/// </summary>
public static class StrategicMergePatch
{
    private const string DirectiveMarker = "$patch";
    private const string RetainKeysDirective = "$retainKeys";
    private const string SetElementOrderPrefix = "$setElementOrder/";
    private const string DeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";

    /// <summary>Applies <paramref name="patch"/> to a copy of <paramref name="original"/> with the type's schema.</summary>
    public static JsonObject Apply(JsonNode? original, JsonNode? patch, TypeSchema? schema, PatchLimits? limits = null)
    {
        if (patch is not JsonObject patchObject)
        {
            throw StatusException.BadRequest("a strategic merge patch must be a JSON object");
        }

        if (original is not null and not JsonObject)
        {
            throw StatusException.BadRequest("a strategic merge patch applies to a JSON object");
        }

        var target = (JsonObject?)original?.DeepClone() ?? [];
        var result = MergeMap(target, (JsonObject)patchObject.DeepClone(), PatchMeta.Resolve(schema));
        (limits ?? PatchLimits.Default).CheckResult(result);
        return result;
    }

    private static JsonObject MergeMap(JsonObject original, JsonObject patch, TypeSchema? schema)
    {
        if (patch.TryGetPropertyValue(DirectiveMarker, out var directive))
        {
            switch (JsonTree.AsString(directive))
            {
                case "replace":
                    patch.Remove(DirectiveMarker);
                    return MergeMap([], patch, schema);
                case "delete":
                    return [];
                default:
                    throw StatusException.BadRequest($"unknown patch type: {directive?.ToJsonString()} in map: {patch.ToJsonString()}");
            }
        }

        var keyOrder = original.Select(p => p.Key).Concat(patch.Select(p => FieldOf(p.Key))).ToList();
        ApplyRetainKeys(original, patch);
        ApplySetElementOrder(original, patch, schema);

        foreach (var key in patch.Select(p => p.Key).ToList())
        {
            var value = Take(patch, key);
            var field = key;
            var deleteList = false;
            if (key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))
            {
                field = key[DeleteFromPrimitiveListPrefix.Length..];
                deleteList = true;
                if (value is not JsonArray)
                {
                    throw StatusException.BadRequest("invalid patch format of primitive list");
                }
            }

            var meta = PatchMeta.Lookup(schema, field);
            if (value is null)
            {
                original.Remove(field);
                continue;
            }

            original.TryGetPropertyValue(field, out var current);
            if (current is null || JsonTree.Kind(current) != JsonTree.Kind(value) && !(IsScalar(current) && IsScalar(value)))
            {
                if (!deleteList)
                {
                    original[field] = NewValue(value, meta);
                }

                continue;
            }

            // Detach the current value but keep the key's position, so merged objects keep their field order.
            original[field] = null;
            original[field] = (current, value) switch
            {
                (JsonObject c, JsonObject v) => meta.Replace ? NewValue(v, meta) : MergeMap(c, v, meta.Type),
                (JsonArray c, JsonArray v) when deleteList => DeleteFromList(c, v),
                (JsonArray c, JsonArray v) when meta.Merge => MergeList(c, v, meta),
                _ => NewValue(value, meta),
            };
        }

        return InOrder(original, keyOrder);
    }

    /// <summary>Existing fields keep their place and new fields follow in the patch's order.</summary>
    private static JsonObject InOrder(JsonObject obj, List<string> keyOrder)
    {
        var wanted = keyOrder.Distinct(StringComparer.Ordinal).Where(obj.ContainsKey).ToList();
        if (wanted.Count == obj.Count && wanted.SequenceEqual(obj.Select(p => p.Key), StringComparer.Ordinal))
        {
            return obj;
        }

        var entries = obj.ToList();
        obj.Clear();
        var result = new JsonObject();
        foreach (var key in wanted)
        {
            result[key] = entries.First(e => e.Key == key).Value;
        }

        foreach (var (key, value) in entries.Where(e => !result.ContainsKey(e.Key)))
        {
            result[key] = value;
        }

        return result;
    }

    private static string FieldOf(string key) =>
        key.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal) ? key[SetElementOrderPrefix.Length..]
        : key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal) ? key[DeleteFromPrimitiveListPrefix.Length..]
        : key;

    /// <summary>A value for a field the original lacks: directives are processed and nulls dropped.</summary>
    private static JsonNode? NewValue(JsonNode? value, PatchMeta meta) => value switch
    {
        JsonObject obj => MergeMap([], obj, meta.Type),
        JsonArray array when meta.Merge => MergeList([], array, meta),
        JsonArray array => new JsonArray(Detach(array).Select(e => e is JsonObject o ? MergeMap([], o, PatchMeta.Resolve(meta.Type?.Items)) : e).ToArray()),
        _ => value,
    };

    private static JsonArray MergeList(JsonArray original, JsonArray patch, PatchMeta meta)
    {
        var originalItems = Detach(original);
        var patchItems = Detach(patch);
        if (originalItems.Count == 0 && patchItems.Count == 0)
        {
            return [];
        }

        var itemType = PatchMeta.Resolve(meta.Type?.Items);
        var mergeKey = meta.MergeKey;
        var hasMaps = originalItems.Concat(patchItems).Any(i => i is JsonObject o && !IsDirectiveOnly(o));
        if (!hasMaps)
        {
            return MergePrimitiveList(originalItems, patchItems);
        }

        if (mergeKey is null)
        {
            throw StatusException.BadRequest("cannot merge lists without merge key");
        }

        if (originalItems.Concat(patchItems).Any(i => i is not JsonObject))
        {
            throw StatusException.BadRequest("list element types are not identical");
        }

        var serverOrder = originalItems.ToList();
        var plain = new List<JsonNode?>();
        var replace = false;
        foreach (var item in patchItems.Cast<JsonObject>())
        {
            if (!item.TryGetPropertyValue(DirectiveMarker, out var directive))
            {
                plain.Add(item);
                continue;
            }

            switch (JsonTree.AsString(directive))
            {
                case "delete":
                    if (!item.TryGetPropertyValue(mergeKey, out var deleteKey))
                    {
                        throw NoMergeKey(item, mergeKey);
                    }

                    originalItems.RemoveAll(o => KeyEquals(o, mergeKey, deleteKey));
                    break;
                case "replace":
                    replace = true;
                    break;
                case "merge":
                    throw StatusException.BadRequest("merging lists cannot yet be specified in the patch");
                default:
                    throw StatusException.BadRequest($"unknown patch type: {directive?.ToJsonString()} in map: {item.ToJsonString()}");
            }
        }

        if (replace)
        {
            var replaced = plain.Select(p => NewValue(p, new PatchMeta(itemType, false, false, null))).ToList();
            return Normalize([], replaced, [], replaced, mergeKey);
        }

        var patchOrder = new List<JsonNode?>();
        foreach (var item in plain.Cast<JsonObject>())
        {
            if (!item.TryGetPropertyValue(mergeKey, out var keyValue))
            {
                throw NoMergeKey(item, mergeKey);
            }

            patchOrder.Add(new JsonObject { [mergeKey] = keyValue?.DeepClone() });

            var index = originalItems.FindIndex(o => KeyEquals(o, mergeKey, keyValue));
            if (index >= 0)
            {
                originalItems[index] = MergeMap((JsonObject)originalItems[index]!, item, itemType);
            }
            else
            {
                originalItems.Add(MergeMap([], item, itemType));
            }
        }

        var inPatch = originalItems.Where(m => IndexOf(patchOrder, m, mergeKey) >= 0).ToList();
        var serverOnly = originalItems.Where(m => !inPatch.Contains(m)).ToList();
        return Normalize(inPatch, serverOnly, patchOrder, serverOrder, mergeKey);
    }

    private static JsonArray MergePrimitiveList(List<JsonNode?> original, List<JsonNode?> patch)
    {
        if (patch.Any(p => p is JsonObject o && JsonTree.AsString(o[DirectiveMarker]) == "replace"))
        {
            return new JsonArray(patch.Where(p => p is not JsonObject).ToArray());
        }

        var merged = new List<JsonNode?>();
        foreach (var item in original.Concat(patch.Where(p => p is not JsonObject)))
        {
            if (!merged.Any(m => JsonTree.DeepEquals(m, item)))
            {
                merged.Add(item);
            }
        }

        var inPatch = merged.Where(m => patch.Any(p => JsonTree.DeepEquals(p, m))).ToList();
        var serverOnly = merged.Where(m => !patch.Any(p => JsonTree.DeepEquals(p, m))).ToList();
        return Normalize(inPatch, serverOnly, patch, original, null);
    }

    private static JsonArray DeleteFromList(JsonArray current, JsonArray toDelete)
    {
        var items = Detach(current);
        var deletions = Detach(toDelete);
        return new JsonArray(items.Where(i => !deletions.Any(d => JsonTree.DeepEquals(d, i))).ToArray());
    }

    private static void ApplyRetainKeys(JsonObject original, JsonObject patch)
    {
        if (!patch.TryGetPropertyValue(RetainKeysDirective, out var retain))
        {
            return;
        }

        patch.Remove(RetainKeysDirective);
        if (retain is not JsonArray list)
        {
            throw StatusException.BadRequest("invalid patch format of retainKeys");
        }

        var keys = new HashSet<string>(list.Select(JsonTree.AsString).OfType<string>(), StringComparer.Ordinal);
        foreach (var (key, value) in patch)
        {
            if (value is null || key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal)
                || key.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (!keys.Contains(key))
            {
                throw StatusException.BadRequest("invalid patch format of retainKeys");
            }
        }

        foreach (var key in original.Select(p => p.Key).Where(k => !keys.Contains(k)).ToList())
        {
            original.Remove(key);
        }
    }

    private static void ApplySetElementOrder(JsonObject original, JsonObject patch, TypeSchema? schema)
    {
        foreach (var key in patch.Select(p => p.Key).Where(k => k.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal)).ToList())
        {
            if (Take(patch, key) is not JsonArray orderArray)
            {
                throw StatusException.BadRequest("invalid patch format of setElementOrder list");
            }

            var order = Detach(orderArray);
            var field = key[SetElementOrderPrefix.Length..];
            var meta = PatchMeta.Lookup(schema, field);
            original.TryGetPropertyValue(field, out var current);
            patch.TryGetPropertyValue(field, out var patchList);
            var hasOriginal = current is JsonArray;
            var hasPatch = patchList is JsonArray;
            if (!hasOriginal && !hasPatch)
            {
                continue;
            }

            var serverOrder = hasOriginal ? ((JsonArray)current!).ToList() : [];
            JsonArray merged;
            if (hasOriginal && hasPatch)
            {
                original[field] = null;
                merged = meta.Merge ? MergeList((JsonArray)current!, (JsonArray)Take(patch, field)!, meta) : (JsonArray)NewValue(Take(patch, field), meta)!;
            }
            else if (hasPatch)
            {
                merged = (JsonArray)NewValue(Take(patch, field), meta)!;
            }
            else
            {
                original[field] = null;
                merged = (JsonArray)current!;
            }

            var items = Detach(merged);
            var mergeKey = items.Any(i => i is JsonObject) ? meta.MergeKey : null;
            if (items.Any(i => i is JsonObject) && mergeKey is null)
            {
                original[field] = new JsonArray(items.ToArray());
                continue;
            }

            var inOrder = items.Where(i => IndexOf(order, i, mergeKey) >= 0).ToList();
            var serverOnly = items.Where(i => IndexOf(order, i, mergeKey) < 0).ToList();
            original[field] = Normalize(inOrder, serverOnly, order, serverOrder, mergeKey);
        }
    }

    /// <summary>
    /// Orders patch items by the patch (or $setElementOrder) and server-only items by the live list, then
    /// interleaves them: a server-only item goes first only when both are in the live list and it was earlier there.
    /// </summary>
    private static JsonArray Normalize(List<JsonNode?> patchItems, List<JsonNode?> serverOnly, List<JsonNode?> patchOrder, List<JsonNode?> serverOrder, string? mergeKey)
    {
        var right = patchItems.Select((item, i) => (item, i)).OrderBy(x => Rank(patchOrder, x.item, mergeKey)).ThenBy(x => x.i).Select(x => x.item).ToList();
        var left = serverOnly.Select((item, i) => (item, i)).OrderBy(x => Rank(serverOrder, x.item, mergeKey)).ThenBy(x => x.i).Select(x => x.item).ToList();
        var result = new List<JsonNode?>(left.Count + right.Count);
        int l = 0, r = 0;
        while (l < left.Count || r < right.Count)
        {
            if (l >= left.Count)
            {
                result.Add(right[r++]);
            }
            else if (r >= right.Count)
            {
                result.Add(left[l++]);
            }
            else
            {
                var li = IndexOf(serverOrder, left[l], mergeKey);
                var ri = IndexOf(serverOrder, right[r], mergeKey);
                result.Add(li >= 0 && ri >= 0 && li < ri ? left[l++] : right[r++]);
            }
        }

        return new JsonArray(result.Select(n => n?.Parent is null ? n : n.DeepClone()).ToArray());
    }

    private static int Rank(List<JsonNode?> order, JsonNode? item, string? mergeKey)
    {
        var index = IndexOf(order, item, mergeKey);
        return index < 0 ? int.MaxValue : index;
    }

    private static int IndexOf(List<JsonNode?> list, JsonNode? item, string? mergeKey)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (mergeKey is null ? JsonTree.DeepEquals(list[i], item) : item is JsonObject o && KeyEquals(list[i], mergeKey, o[mergeKey]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool KeyEquals(JsonNode? item, string mergeKey, JsonNode? keyValue) =>
        item is JsonObject obj && obj.TryGetPropertyValue(mergeKey, out var value) && JsonTree.DeepEquals(value, keyValue);

    private static bool IsDirectiveOnly(JsonObject obj) => obj.Count == 1 && obj.ContainsKey(DirectiveMarker);

    private static bool IsScalar(JsonNode? node) => JsonTree.Kind(node) is not (JsonValueKind.Object or JsonValueKind.Array);

    private static StatusException NoMergeKey(JsonObject item, string mergeKey) =>
        StatusException.BadRequest($"map: {item.ToJsonString()} does not contain declared merge key: {mergeKey}");

    private static JsonNode? Take(JsonObject obj, string key)
    {
        obj.TryGetPropertyValue(key, out var value);
        obj.Remove(key);
        return value;
    }

    private static List<JsonNode?> Detach(JsonArray array)
    {
        var items = array.ToList();
        array.Clear();
        return items;
    }
}
