using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.Cel;

/// <summary>A CEL map at run time: a literal's entries or a JSON object read in place.</summary>
public abstract class CelMapValue
{
    public abstract int Count { get; }

    public abstract IEnumerable<object> Keys { get; }

    public abstract bool TryGetValue(object key, out object? value);
}

internal sealed class CelDictionaryMap(Dictionary<object, object?> entries) : CelMapValue
{
    public override int Count => entries.Count;

    public override IEnumerable<object> Keys => entries.Keys;

    public override bool TryGetValue(object key, out object? value) => entries.TryGetValue(CelValue.NormalizeKey(key), out value);
}

/// <summary>A JSON object seen as a CEL map (or object); values convert as they are read, following the object's type.</summary>
internal sealed class CelJsonMap(JsonObject obj, CelType? type) : CelMapValue
{
    public JsonObject Json => obj;

    public override int Count => obj.Count;

    public override IEnumerable<object> Keys => obj.Select(p => (object)p.Key);

    public override bool TryGetValue(object key, out object? value)
    {
        if (key is not string name || !obj.TryGetPropertyValue(name, out var node))
        {
            value = null;
            return false;
        }

        value = CelValue.FromJson(node, FieldType(name));
        return true;
    }

    private CelType? FieldType(string name)
    {
        if (type is null)
        {
            return null;
        }

        if (type.Kind == CelTypeKind.Map)
        {
            return type.Element;
        }

        return type.Fields is { } fields && fields.TryGetValue(CelValue.EscapeFieldName(name) ?? name, out var field) ? field : null;
    }
}

/// <summary>A JSON array seen as a CEL list, elements converted as they are read.</summary>
internal sealed class CelJsonList(JsonArray array, CelType? element) : IReadOnlyList<object?>
{
    public int Count => array.Count;

    public object? this[int index] => CelValue.FromJson(array[index], element);

    public IEnumerator<object?> GetEnumerator()
    {
        for (var i = 0; i < array.Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
