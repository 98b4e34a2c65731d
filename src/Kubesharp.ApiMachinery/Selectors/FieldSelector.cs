using System.Globalization;
using System.Text;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>
/// A field selector (<c>metadata.name=x,status.phase!=Running</c>): equality terms on named fields that all hold.
/// Which fields exist is the resource's business: it checks them with <see cref="RequireSupported"/> and supplies
/// values through a getter when matching.
/// </summary>
public sealed class FieldSelector
{
    private FieldSelector(IReadOnlyList<FieldSelectorTerm> terms) => Terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    /// <summary>The terms, sorted as upstream sorts them (by their text).</summary>
    public IReadOnlyList<FieldSelectorTerm> Terms { get; }

    public bool IsEverything => Terms.Count == 0;

    /// <summary>Parses the query syntax; '\' escapes '\', ',' and '=' in values. Errors are 400 BadRequest.</summary>
    public static FieldSelector Parse(string? selector)
    {
        if (string.IsNullOrEmpty(selector))
        {
            return Everything;
        }

        var parts = SplitTerms(selector);
        parts.Sort(StringComparer.Ordinal);
        var terms = new List<FieldSelectorTerm>();
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            if (!SplitTerm(part, out var field, out var op, out var raw))
            {
                throw StatusException.BadRequest($"invalid selector: '{selector}'; can't understand '{part}'");
            }

            terms.Add(new FieldSelectorTerm(field, op == "!=", UnescapeValue(raw)));
        }

        return new FieldSelector(terms);
    }

    /// <summary>
    /// Rejects fields the resource does not index with upstream's 400 <c>field label not supported: x</c>.
    /// </summary>
    public void RequireSupported(Func<string, bool> isSupported)
    {
        ArgumentNullException.ThrowIfNull(isSupported);
        foreach (var term in Terms)
        {
            if (!isSupported(term.Field))
            {
                throw StatusException.BadRequest($"field label not supported: {term.Field}");
            }
        }
    }

    /// <summary>Matches with a getter returning a field's value (null when absent, compared as empty).</summary>
    public bool Matches(Func<string, string?> getField)
    {
        ArgumentNullException.ThrowIfNull(getField);
        foreach (var term in Terms)
        {
            var value = getField(term.Field) ?? "";
            if (string.Equals(value, term.Value, StringComparison.Ordinal) == term.NotEquals)
            {
                return false;
            }
        }

        return true;
    }

    public bool Matches(IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return Matches(f => fields.TryGetValue(f, out var v) ? v : null);
    }

    /// <summary>True when a term pins <paramref name="field"/> to one value (an index can serve the request).</summary>
    public bool TryGetExactMatch(string field, out string value)
    {
        foreach (var term in Terms)
        {
            if (!term.NotEquals && string.Equals(term.Field, field, StringComparison.Ordinal))
            {
                value = term.Value;
                return true;
            }
        }

        value = "";
        return false;
    }

    public override string ToString() => string.Join(",", Terms);

    /// <summary>Escapes '\', ',' and '=' so a value can be written into a selector.</summary>
    public static string EscapeValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace(",", "\\,", StringComparison.Ordinal)
            .Replace("=", "\\=", StringComparison.Ordinal);
    }

    private static List<string> SplitTerms(string selector)
    {
        var terms = new List<string>();
        var start = 0;
        var escaped = false;
        for (var i = 0; i < selector.Length; i++)
        {
            var c = selector[i];
            if (escaped)
            {
                escaped = false;
            }
            else if (c == '\\')
            {
                escaped = true;
            }
            else if (c == ',')
            {
                terms.Add(selector[start..i]);
                start = i + 1;
            }
        }

        terms.Add(selector[start..]);
        return terms;
    }

    private static bool SplitTerm(string term, out string field, out string op, out string value)
    {
        for (var i = 0; i < term.Length; i++)
        {
            foreach (var candidate in (ReadOnlySpan<string>)["!=", "==", "="])
            {
                if (term.AsSpan(i).StartsWith(candidate, StringComparison.Ordinal))
                {
                    field = term[..i];
                    op = candidate;
                    value = term[(i + candidate.Length)..];
                    return true;
                }
            }
        }

        field = op = value = "";
        return false;
    }

    private static string UnescapeValue(string value)
    {
        if (value.AsSpan().IndexOfAny("\\,=") < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        var escaped = false;
        foreach (var c in value)
        {
            if (escaped)
            {
                if (c is not ('\\' or ',' or '='))
                {
                    throw StatusException.BadRequest($"invalid field selector: invalid escape sequence: \\{c}");
                }

                builder.Append(c);
                escaped = false;
                continue;
            }

            switch (c)
            {
                case '\\':
                    escaped = true;
                    break;
                case ',' or '=':
                    throw StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"invalid field selector: unescaped character in value: {(int)c}"));
                default:
                    builder.Append(c);
                    break;
            }
        }

        return escaped ? throw StatusException.BadRequest("invalid field selector: invalid escape sequence: \\") : builder.ToString();
    }
}
