using System.Globalization;
using System.Text;

namespace Kubesharp.ApiMachinery.Errors;

/// <summary>
/// An immutable path to a field of an object as validation errors print it: <c>spec.containers[0].image</c>,
/// <c>metadata.labels[app]</c>.
/// </summary>
public sealed class FieldPath
{
    private readonly FieldPath? _parent;
    private readonly string _name;
    private readonly string _subscript;

    private FieldPath(FieldPath? parent, string name, string subscript)
    {
        _parent = parent;
        _name = name;
        _subscript = subscript;
    }

    /// <summary>A path starting at <paramref name="name"/>, optionally followed by more field names.</summary>
    public static FieldPath Root(string name, params string[] more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var path = new FieldPath(null, name, "");
        foreach (var child in more)
        {
            path = path.Child(child);
        }

        return path;
    }

    public FieldPath Child(string name, params string[] more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var path = new FieldPath(this, name, "");
        foreach (var child in more)
        {
            path = path.Child(child);
        }

        return path;
    }

    /// <summary>A list element: <c>containers[0]</c>.</summary>
    public FieldPath Index(int index) => new(this, "", index.ToString(CultureInfo.InvariantCulture));

    /// <summary>A map entry: <c>labels[app]</c> (the key is printed as is).</summary>
    public FieldPath Key(string key) => new(this, "", key);

    public override string ToString()
    {
        var elements = new List<FieldPath>();
        for (var p = this; p is not null; p = p._parent)
        {
            elements.Add(p);
        }

        var builder = new StringBuilder();
        for (var i = elements.Count - 1; i >= 0; i--)
        {
            var element = elements[i];
            if (element._name.Length > 0)
            {
                if (element._parent is not null)
                {
                    builder.Append('.');
                }

                builder.Append(element._name);
            }
            else
            {
                builder.Append('[').Append(element._subscript).Append(']');
            }
        }

        return builder.ToString();
    }
}
