using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Validation;

namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>One requirement of a label selector (<c>app=web</c>, <c>tier in (a,b)</c>, <c>!legacy</c>).</summary>
public sealed class LabelRequirement
{
    private LabelRequirement(string key, SelectorOperator op, IReadOnlyList<string> values)
    {
        Key = key;
        Operator = op;
        Values = values;
    }

    public string Key { get; }

    public SelectorOperator Operator { get; }

    /// <summary>The values, sorted and without duplicates.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>
    /// Creates a validated requirement; the errors name <c>key</c> and <c>values[i]</c> like upstream's.
    /// </summary>
    public static LabelRequirement Create(string key, SelectorOperator op, IEnumerable<string> values)
    {
        var (requirement, errors) = TryCreate(key, op, values);
        return errors.Count == 0 ? requirement : throw StatusException.BadRequest(FieldError.Aggregate(errors));
    }

    internal static (LabelRequirement Requirement, List<FieldError> Errors) TryCreate(string key, SelectorOperator op, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(values);
        var errors = new List<FieldError>();
        var keyErrors = NameValidation.IsQualifiedName(key);
        if (keyErrors.Count > 0)
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("key"), key, string.Join("; ", keyErrors)));
        }

        var sorted = values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var valuesPath = FieldPath.Root("values");
        switch (op)
        {
            case SelectorOperator.In or SelectorOperator.NotIn when sorted.Count == 0:
                errors.Add(FieldError.Invalid(valuesPath, sorted, "for 'in', 'notin' operators, values set can't be empty"));
                break;
            case SelectorOperator.Equals or SelectorOperator.DoubleEquals or SelectorOperator.NotEquals when sorted.Count != 1:
                errors.Add(FieldError.Invalid(valuesPath, sorted, "exact-match compatibility requires one single value"));
                break;
            case SelectorOperator.Exists or SelectorOperator.DoesNotExist when sorted.Count != 0:
                errors.Add(FieldError.Invalid(valuesPath, sorted, "values set must be empty for exists and does not exist"));
                break;
            case SelectorOperator.GreaterThan or SelectorOperator.LessThan:
                if (sorted.Count != 1)
                {
                    errors.Add(FieldError.Invalid(valuesPath, sorted, "for 'Gt', 'Lt' operators, exactly one value is required"));
                }

                for (var i = 0; i < sorted.Count; i++)
                {
                    if (!long.TryParse(sorted[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    {
                        errors.Add(FieldError.Invalid(valuesPath.Index(i), sorted[i], "for 'Gt', 'Lt' operators, the value must be an integer"));
                    }
                }

                break;
        }

        for (var i = 0; i < sorted.Count; i++)
        {
            var valueErrors = NameValidation.IsValidLabelValue(sorted[i]);
            if (valueErrors.Count > 0)
            {
                errors.Add(FieldError.Invalid(valuesPath.Index(i), sorted[i], string.Join("; ", valueErrors)));
            }
        }

        return (new LabelRequirement(key, op, sorted), errors);
    }

    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetValue(Key, out value);
        return Evaluate(has, value);
    }

    public bool Matches(JsonObject? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetPropertyValue(Key, out var node) && node is JsonValue v && v.TryGetValue(out value);
        return Evaluate(has, value);
    }

    private bool Evaluate(bool has, string? value)
    {
        switch (Operator)
        {
            case SelectorOperator.Equals or SelectorOperator.DoubleEquals or SelectorOperator.In:
                return has && Contains(value!);
            case SelectorOperator.NotEquals or SelectorOperator.NotIn:
                return !has || !Contains(value!);
            case SelectorOperator.Exists:
                return has;
            case SelectorOperator.DoesNotExist:
                return !has;
            case SelectorOperator.GreaterThan or SelectorOperator.LessThan:
                if (!has || Values.Count != 1
                    || !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var actual)
                    || !long.TryParse(Values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bound))
                {
                    return false;
                }

                return Operator == SelectorOperator.GreaterThan ? actual > bound : actual < bound;
            default:
                return false;
        }
    }

    private bool Contains(string value)
    {
        foreach (var v in Values)
        {
            if (string.Equals(v, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The requirement in selector syntax (<c>a in (x,y)</c>).</summary>
    public override string ToString() => Operator switch
    {
        SelectorOperator.Exists => Key,
        SelectorOperator.DoesNotExist => "!" + Key,
        SelectorOperator.Equals => $"{Key}={Single()}",
        SelectorOperator.DoubleEquals => $"{Key}=={Single()}",
        SelectorOperator.NotEquals => $"{Key}!={Single()}",
        SelectorOperator.In => $"{Key} in ({string.Join(",", Values)})",
        SelectorOperator.NotIn => $"{Key} notin ({string.Join(",", Values)})",
        SelectorOperator.GreaterThan => $"{Key}>{Single()}",
        SelectorOperator.LessThan => $"{Key}<{Single()}",
        _ => Key,
    };

    private string Single() => Values.Count > 0 ? Values[0] : "";
}
