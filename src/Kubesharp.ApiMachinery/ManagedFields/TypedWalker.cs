using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>
/// The schema-aware operations of server-side apply on JSON trees: field sets of values, comparison, merging an
/// applied configuration into a live object, and removal of field paths.
/// </summary>
internal sealed class TypedWalker(IReadOnlyDictionary<string, JsonNode?> keyDefaults)
{
    private static readonly PathElement MetadataElement = PathElement.Field("metadata");

    /// <summary>The set of fields a value specifies (leaves, list items, map entries, empty or null fields).</summary>
    public FieldSet ToFieldSet(JsonNode? value, Shape shape)
    {
        var set = new FieldSet();
        Collect(value, shape, [], set);
        return set;
    }

    private void Collect(JsonNode? value, Shape shape, List<PathElement> path, FieldSet set)
    {
        switch (shape.Mode(value))
        {
            case NodeMode.Leaf:
                set.Insert(path);
                break;
            case NodeMode.Fields:
                foreach (var (key, child) in (JsonObject)value!)
                {
                    path.Add(PathElement.Field(key));
                    Collect(child, shape.Child(key), path, set);
                    if (child is null || child is JsonObject { Count: 0 } || !shape.IsDeclaredField(key))
                    {
                        set.Insert(path);
                    }

                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeMode.List:
                var items = (JsonArray)value!;
                for (var i = 0; i < items.Count; i++)
                {
                    path.Add(ItemElement(items[i], shape, i));
                    Collect(items[i], shape.Element, path, set);
                    set.Insert(path);
                    path.RemoveAt(path.Count - 1);
                }

                break;
        }
    }

    /// <summary>The identity of a list item: its value in a set, its key fields in a list-map.</summary>
    public PathElement ItemElement(JsonNode? item, Shape list, int index)
    {
        if (list.ListType == "set")
        {
            return PathElement.Value(item);
        }

        if (item is not JsonObject obj)
        {
            return PathElement.Index(index);
        }

        var keys = new List<KeyValuePair<string, JsonNode?>>();
        foreach (var name in list.ListKeys)
        {
            if (obj.TryGetPropertyValue(name, out var keyValue) && keyValue is not null)
            {
                keys.Add(KeyValuePair.Create<string, JsonNode?>(name, keyValue));
            }
            else if (keyDefaults.TryGetValue(name, out var fallback))
            {
                keys.Add(KeyValuePair.Create(name, fallback));
            }
        }

        return keys.Count == 0 ? PathElement.Index(index) : PathElement.Key(keys);
    }

    /// <summary>Fields added, modified and removed going from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public Comparison Compare(JsonNode? before, JsonNode? after, Shape shape)
    {
        var comparison = new Comparison(new FieldSet(), new FieldSet(), new FieldSet());
        Compare(true, before, true, after, shape, [], comparison);
        return comparison;
    }

    private void Compare(bool hasBefore, JsonNode? before, bool hasAfter, JsonNode? after, Shape shape, List<PathElement> path, Comparison result)
    {
        var mode = hasAfter ? shape.Mode(after) : shape.Mode(before);
        if (hasBefore && hasAfter && shape.Mode(before) != mode)
        {
            mode = NodeMode.Leaf;
        }

        switch (mode)
        {
            case NodeMode.Leaf:
                if (!hasBefore)
                {
                    result.Added.Insert(path);
                }
                else if (!hasAfter)
                {
                    result.Removed.Insert(path);
                }
                else if (!JsonTree.DeepEquals(before, after))
                {
                    result.Modified.Insert(path);
                }

                return;
            case NodeMode.Fields:
                var left = hasBefore ? (JsonObject)before! : [];
                var right = hasAfter ? (JsonObject)after! : [];
                foreach (var key in left.Select(p => p.Key).Union(right.Select(p => p.Key), StringComparer.Ordinal))
                {
                    if (path.Count == 1 && key == "managedFields" && path[0] == MetadataElement)
                    {
                        // Bookkeeping, not content: callers compare objects with their managed fields still attached.
                        continue;
                    }

                    var inLeft = left.TryGetPropertyValue(key, out var l);
                    var inRight = right.TryGetPropertyValue(key, out var r);
                    path.Add(PathElement.Field(key));
                    Compare(inLeft, l, inRight, r, shape.Child(key), path, result);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case NodeMode.List:
                var leftItems = Index(hasBefore ? (JsonArray)before! : [], shape);
                var rightItems = Index(hasAfter ? (JsonArray)after! : [], shape);
                foreach (var element in leftItems.Keys.Union(rightItems.Keys))
                {
                    var inLeft = leftItems.TryGetValue(element, out var l);
                    var inRight = rightItems.TryGetValue(element, out var r);
                    path.Add(element);
                    Compare(inLeft, l, inRight, r, shape.Element, path, result);
                    path.RemoveAt(path.Count - 1);
                }

                break;
        }

        if (path.Count > 0)
        {
            if (!hasBefore)
            {
                result.Added.Insert(path);
            }
            else if (!hasAfter)
            {
                result.Removed.Insert(path);
            }
        }
    }

    /// <summary>
    /// Merges an applied configuration into a live value: the configuration's values win, granular objects merge
    /// field by field, list-maps and sets merge item by item, atomic values are replaced. Returns a new tree.
    /// </summary>
    public JsonNode? Merge(JsonNode? live, bool hasLive, JsonNode? config, Shape shape)
    {
        if (!hasLive || shape.Mode(config) == NodeMode.Leaf || shape.Mode(live) != shape.Mode(config))
        {
            return WithoutNulls(config);
        }

        if (config is JsonObject configObject)
        {
            var result = (JsonObject)live!.DeepClone();
            foreach (var (key, value) in configObject)
            {
                if (value is null)
                {
                    result.Remove(key);
                    continue;
                }

                var inLive = result.TryGetPropertyValue(key, out var current);
                var merged = Merge(current, inLive, value, shape.Child(key));
                if (inLive)
                {
                    result[key] = null;
                }

                result[key] = merged;
            }

            return result;
        }

        return MergeList((JsonArray)live!, (JsonArray)config!, shape);
    }

    private JsonArray MergeList(JsonArray live, JsonArray config, Shape shape)
    {
        var liveElements = live.Select((item, i) => ItemElement(item, shape, i)).ToList();
        var configElements = config.Select((item, i) => ItemElement(item, shape, i)).ToList();
        var firstLive = new Dictionary<PathElement, int>();
        for (var i = 0; i < liveElements.Count; i++)
        {
            firstLive.TryAdd(liveElements[i], i);
        }

        var inConfig = new HashSet<PathElement>(configElements);
        var result = new JsonArray();
        var next = 0;
        for (var c = 0; c < config.Count; c++)
        {
            if (firstLive.TryGetValue(configElements[c], out var match))
            {
                // Live-only items keep their place relative to the shared items around them.
                for (; next < match; next++)
                {
                    if (!inConfig.Contains(liveElements[next]))
                    {
                        result.Add(live[next]?.DeepClone());
                    }
                }

                result.Add(Merge(live[match], true, config[c], shape.Element));
                next = Math.Max(next, match + 1);
            }
            else
            {
                result.Add(WithoutNulls(config[c]));
            }
        }

        for (; next < live.Count; next++)
        {
            if (!inConfig.Contains(liveElements[next]))
            {
                result.Add(live[next]?.DeepClone());
            }
        }

        return result;
    }

    /// <summary>Removes every member of <paramref name="set"/> from a copy of <paramref name="value"/>.</summary>
    public JsonNode? RemoveItems(JsonNode? value, FieldSet set, Shape shape)
    {
        if (set.IsEmpty)
        {
            return value?.DeepClone();
        }

        switch (shape.Mode(value))
        {
            case NodeMode.Fields:
                var result = new JsonObject();
                foreach (var (key, child) in (JsonObject)value!)
                {
                    var element = PathElement.Field(key);
                    if (set.Members.Contains(element))
                    {
                        continue;
                    }

                    result[key] = set.Children.TryGetValue(element, out var below) ? RemoveItems(child, below, shape.Child(key)) : child?.DeepClone();
                }

                return result;
            case NodeMode.List:
                var items = (JsonArray)value!;
                var kept = new JsonArray();
                for (var i = 0; i < items.Count; i++)
                {
                    var element = ItemElement(items[i], shape, i);
                    if (set.Members.Contains(element))
                    {
                        continue;
                    }

                    kept.Add(set.Children.TryGetValue(element, out var below) ? RemoveItems(items[i], below, shape.Element) : items[i]?.DeepClone());
                }

                return kept;
            default:
                return value?.DeepClone();
        }
    }

    /// <summary>Adds as members the struct fields that appear in <paramref name="set"/> only as parents.</summary>
    public static FieldSet EnsureNamedFieldsAreMembers(FieldSet set, Shape shape)
    {
        var result = new FieldSet();
        result.UnionWith(set);
        AddNamed(result, shape);
        return result;
    }

    private static void AddNamed(FieldSet set, Shape shape)
    {
        foreach (var (element, child) in set.Children.ToList())
        {
            if (element.IsField && shape.IsDeclaredField(element.FieldName))
            {
                set.Insert([element]);
            }

            AddNamed(child, shape.Child(element));
        }
    }

    private Dictionary<PathElement, JsonNode?> Index(JsonArray items, Shape shape)
    {
        var index = new Dictionary<PathElement, JsonNode?>();
        for (var i = 0; i < items.Count; i++)
        {
            index.TryAdd(ItemElement(items[i], shape, i), items[i]);
        }

        return index;
    }

    private static JsonNode? WithoutNulls(JsonNode? value) => value switch
    {
        JsonObject obj => new JsonObject(obj.Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Key, WithoutNulls(p.Value)))),
        JsonArray array => new JsonArray(array.Select(WithoutNulls).ToArray()),
        _ => value?.DeepClone(),
    };
}

/// <summary>The difference between two versions of an object, as field sets.</summary>
internal sealed record Comparison(FieldSet Added, FieldSet Modified, FieldSet Removed)
{
    public Comparison Excluding(FieldSet ignored) =>
        new(Added.RecursiveDifference(ignored), Modified.RecursiveDifference(ignored), Removed.RecursiveDifference(ignored));
}
