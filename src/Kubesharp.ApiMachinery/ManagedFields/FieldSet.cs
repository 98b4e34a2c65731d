using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>
/// A set of field paths stored as a trie (upstream's fieldpath.Set): each node has members (paths that end
/// here) and children (paths that continue). Serialises to and from the FieldsV1 JSON form.
/// </summary>
public sealed class FieldSet
{
    private readonly SortedSet<PathElement> _members = [];
    private readonly SortedDictionary<PathElement, FieldSet> _children = [];

    public bool IsEmpty => _members.Count == 0 && _children.Count == 0;

    internal IReadOnlyCollection<PathElement> Members => _members;

    internal IReadOnlyDictionary<PathElement, FieldSet> Children => _children;

    /// <summary>Builds a set from paths.</summary>
    public static FieldSet Of(params IReadOnlyList<PathElement>[] paths)
    {
        var set = new FieldSet();
        foreach (var path in paths)
        {
            set.Insert(path);
        }

        return set;
    }

    public void Insert(IReadOnlyList<PathElement> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Count == 0)
        {
            return;
        }

        var node = this;
        for (var i = 0; i < path.Count - 1; i++)
        {
            node = node.Child(path[i]);
        }

        node._members.Add(path[^1]);
    }

    /// <summary>True when <paramref name="path"/> is a member (not merely a prefix of one).</summary>
    public bool Has(IReadOnlyList<PathElement> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Count == 0)
        {
            return false;
        }

        var node = this;
        for (var i = 0; i < path.Count - 1; i++)
        {
            if (!node._children.TryGetValue(path[i], out node!))
            {
                return false;
            }
        }

        return node._members.Contains(path[^1]);
    }

    /// <summary>The subset below <paramref name="element"/> (empty when there is none).</summary>
    internal FieldSet WithPrefix(PathElement element) => _children.TryGetValue(element, out var child) ? child : Empty;

    internal static FieldSet Empty { get; } = new();

    public FieldSet Union(FieldSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var result = Clone();
        result.UnionWith(other);
        return result;
    }

    /// <summary>Members of this set that <paramref name="other"/> lacks (children compared recursively).</summary>
    public FieldSet Difference(FieldSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var result = new FieldSet();
        result._members.UnionWith(_members);
        result._members.ExceptWith(other._members);

        foreach (var (element, child) in _children)
        {
            var remaining = other._children.TryGetValue(element, out var otherChild) ? child.Difference(otherChild) : child.Clone();
            if (!remaining.IsEmpty)
            {
                result._children[element] = remaining;
            }
        }

        return result;
    }

    /// <summary>Like <see cref="Difference"/>, but a member of <paramref name="other"/> also removes everything below it.</summary>
    public FieldSet RecursiveDifference(FieldSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var result = new FieldSet();
        result._members.UnionWith(_members);
        result._members.ExceptWith(other._members);

        foreach (var (element, child) in _children)
        {
            if (other._members.Contains(element))
            {
                continue;
            }

            var remaining = other._children.TryGetValue(element, out var otherChild) ? child.RecursiveDifference(otherChild) : child.Clone();
            if (!remaining.IsEmpty)
            {
                result._children[element] = remaining;
            }
        }

        return result;
    }

    public FieldSet Intersection(FieldSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var result = new FieldSet();
        result._members.UnionWith(_members);
        result._members.IntersectWith(other._members);

        foreach (var (element, child) in _children)
        {
            if (other._children.TryGetValue(element, out var otherChild))
            {
                var common = child.Intersection(otherChild);
                if (!common.IsEmpty)
                {
                    result._children[element] = common;
                }
            }
        }

        return result;
    }

    /// <summary>Every member path, in order.</summary>
    public IEnumerable<IReadOnlyList<PathElement>> Paths()
    {
        var all = new List<IReadOnlyList<PathElement>>();
        Collect([], all);
        return all;
    }

    public bool SetEquals(FieldSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _members.SetEquals(other._members) && _children.Count == other._children.Count
            && _children.All(c => other._children.TryGetValue(c.Key, out var o) && c.Value.SetEquals(o));
    }

    /// <summary>The FieldsV1 form: <c>{"f:spec":{"f:replicas":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}</c>.</summary>
    public JsonObject ToFieldsV1()
    {
        var obj = new JsonObject();
        WriteFieldsV1(obj);
        return obj;
    }

    private void WriteFieldsV1(JsonObject into)
    {
        var keys = new SortedSet<PathElement>(_members);
        keys.UnionWith(_children.Keys);
        foreach (var key in keys)
        {
            var inner = new JsonObject();
            if (_children.TryGetValue(key, out var child))
            {
                if (_members.Contains(key))
                {
                    inner["."] = new JsonObject();
                }

                child.WriteFieldsV1(inner);
            }

            into[key.Encoded] = inner;
        }
    }

    /// <summary>Reads the FieldsV1 form; malformed input is a 400 BadRequest.</summary>
    public static FieldSet FromFieldsV1(JsonNode? fields)
    {
        var set = new FieldSet();
        if (fields is null)
        {
            return set;
        }

        if (fields is not JsonObject obj)
        {
            throw StatusException.BadRequest("invalid managedFields: fieldsV1 must be an object");
        }

        foreach (var (key, value) in obj)
        {
            if (key == ".")
            {
                continue;
            }

            var element = PathElement.Parse(key);
            if (value is not JsonObject inner)
            {
                throw StatusException.BadRequest("invalid managedFields: fieldsV1 entries must be objects");
            }

            if (inner.Count == 0 || inner.ContainsKey("."))
            {
                set._members.Add(element);
            }

            var child = FromFieldsV1(inner);
            if (!child.IsEmpty)
            {
                set._children[element] = child;
            }
        }

        return set;
    }

    /// <summary>Paths printed one per line like upstream (<c>.spec.replicas</c>).</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        foreach (var path in Paths())
        {
            builder.AppendLine(PathText(path));
        }

        return builder.ToString();
    }

    /// <summary>A path as upstream prints it: <c>.spec.containers[name="nginx"].image</c>.</summary>
    public static string PathText(IReadOnlyList<PathElement> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return string.Concat(path.Select(p => p.ToString()));
    }

    internal FieldSet Clone()
    {
        var copy = new FieldSet();
        copy.UnionWith(this);
        return copy;
    }

    internal FieldSet Child(PathElement element)
    {
        if (!_children.TryGetValue(element, out var child))
        {
            child = new FieldSet();
            _children[element] = child;
        }

        return child;
    }

    internal void UnionWith(FieldSet other)
    {
        _members.UnionWith(other._members);
        foreach (var (element, child) in other._children)
        {
            Child(element).UnionWith(child);
        }
    }

    private void Collect(List<PathElement> prefix, List<IReadOnlyList<PathElement>> into)
    {
        var keys = new SortedSet<PathElement>(_members);
        keys.UnionWith(_children.Keys);
        foreach (var key in keys)
        {
            prefix.Add(key);
            if (_members.Contains(key))
            {
                into.Add(prefix.ToArray());
            }

            if (_children.TryGetValue(key, out var child))
            {
                child.Collect(prefix, into);
            }

            prefix.RemoveAt(prefix.Count - 1);
        }
    }
}
