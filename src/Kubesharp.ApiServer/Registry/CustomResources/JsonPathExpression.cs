using System.Globalization;
using System.Text.Json;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// The JSONPath subset printer columns and selectable fields use: fields (.a.b, ['a.b']), indexes ([0], [-1]),
/// wildcards ([*], .*) and equality filters ([?(@.type=="Ready")]).
/// </summary>
internal sealed class JsonPathExpression
{
    private readonly List<Step> _steps;

    private JsonPathExpression(List<Step> steps) => _steps = steps;

    public static bool TryParse(string text, out JsonPathExpression? expression, out string? error)
    {
        expression = null;
        error = null;
        var path = text.Trim();
        if (path.StartsWith('{') && path.EndsWith('}'))
        {
            path = path[1..^1].Trim();
        }

        if (path.StartsWith('$'))
        {
            path = path[1..];
        }

        var steps = new List<Step>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
                var start = i;
                while (i < path.Length && path[i] is not ('.' or '['))
                {
                    i++;
                }

                var name = path[start..i];
                if (name.Length == 0)
                {
                    error = $"invalid JSONPath {text}";
                    return false;
                }

                steps.Add(name == "*" ? new Step(StepKind.All, null, 0, null) : new Step(StepKind.Field, name, 0, null));
            }
            else if (path[i] == '[')
            {
                var end = FindClose(path, i);
                if (end < 0)
                {
                    error = $"unterminated [ in JSONPath {text}";
                    return false;
                }

                var inner = path[(i + 1)..end].Trim();
                i = end + 1;
                if (inner == "*")
                {
                    steps.Add(new Step(StepKind.All, null, 0, null));
                }
                else if (inner.Length >= 2 && inner[0] is '\'' or '"' && inner[^1] == inner[0])
                {
                    steps.Add(new Step(StepKind.Field, inner[1..^1], 0, null));
                }
                else if (inner.StartsWith("?(", StringComparison.Ordinal) && inner.EndsWith(')'))
                {
                    if (Filter.Parse(inner[2..^1]) is not { } filter)
                    {
                        error = $"unsupported filter in JSONPath {text}";
                        return false;
                    }

                    steps.Add(new Step(StepKind.Filter, null, 0, filter));
                }
                else if (int.TryParse(inner, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
                {
                    steps.Add(new Step(StepKind.Index, null, index, null));
                }
                else
                {
                    error = $"unsupported JSONPath {text}";
                    return false;
                }
            }
            else
            {
                error = $"JSONPath {text} must start with a '.'";
                return false;
            }
        }

        expression = new JsonPathExpression(steps);
        return true;
    }

    /// <summary>The dotted field path, when the expression is nothing but fields (.spec.color → spec.color).</summary>
    public string? FieldPath => _steps.All(s => s.Kind == StepKind.Field) ? string.Join('.', _steps.Select(s => s.Name)) : null;

    public List<JsonElement> Evaluate(JsonElement root)
    {
        var current = new List<JsonElement> { root };
        foreach (var step in _steps)
        {
            var next = new List<JsonElement>();
            foreach (var node in current)
            {
                switch (step.Kind)
                {
                    case StepKind.Field when node.ValueKind == JsonValueKind.Object && node.TryGetProperty(step.Name!, out var value):
                        next.Add(value);
                        break;
                    case StepKind.Index when node.ValueKind == JsonValueKind.Array:
                        var length = node.GetArrayLength();
                        var at = step.Index < 0 ? length + step.Index : step.Index;
                        if (at >= 0 && at < length)
                        {
                            next.Add(node[at]);
                        }

                        break;
                    case StepKind.All when node.ValueKind == JsonValueKind.Array:
                        next.AddRange(node.EnumerateArray());
                        break;
                    case StepKind.All when node.ValueKind == JsonValueKind.Object:
                        next.AddRange(node.EnumerateObject().Select(p => p.Value));
                        break;
                    case StepKind.Filter when node.ValueKind == JsonValueKind.Array:
                        next.AddRange(node.EnumerateArray().Where(step.Filter!.Matches));
                        break;
                }
            }

            current = next;
        }

        return current;
    }

    private static int FindClose(string path, int open)
    {
        var depth = 0;
        char? quote = null;
        for (var i = open; i < path.Length; i++)
        {
            var c = path[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private enum StepKind
    {
        Field,
        Index,
        All,
        Filter,
    }

    private sealed record Step(StepKind Kind, string? Name, int Index, Filter? Filter);

    /// <summary>@.a.b == "x", @.a != 3, or @.a (exists).</summary>
    private sealed record Filter(JsonPathExpression Left, string? Operator, string? Right)
    {
        public static Filter? Parse(string text)
        {
            foreach (var op in new[] { "==", "!=" })
            {
                var at = text.IndexOf(op, StringComparison.Ordinal);
                if (at > 0)
                {
                    var left = text[..at].Trim();
                    var right = text[(at + 2)..].Trim();
                    if (!left.StartsWith('@') || !TryParse(left[1..], out var expression, out _))
                    {
                        return null;
                    }

                    if (right.Length >= 2 && right[0] is '\'' or '"' && right[^1] == right[0])
                    {
                        right = right[1..^1];
                    }

                    return new Filter(expression!, op, right);
                }
            }

            return text.StartsWith('@') && TryParse(text[1..], out var exists, out _) ? new Filter(exists!, null, null) : null;
        }

        public bool Matches(JsonElement item)
        {
            var values = Left.Evaluate(item);
            if (Operator is null)
            {
                return values.Count > 0;
            }

            var equal = values.Any(v => Text(v) == Right);
            return Operator == "==" ? equal : !equal;
        }
    }

    /// <summary>A scalar as text: strings bare, numbers and booleans as written.</summary>
    public static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? string.Empty,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => string.Empty,
        _ => value.GetRawText(),
    };
}
