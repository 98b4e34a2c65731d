namespace Kubesharp.Client;

/// <summary>One requirement of a label selector: key, operator, values.</summary>
public sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetValue(Key, out value);
        return Operator switch
        {
            LabelOperator.In => has && Values.Contains(value!),
            LabelOperator.NotIn => !has || !Values.Contains(value!),
            LabelOperator.Exists => has,
            LabelOperator.DoesNotExist => !has,
            LabelOperator.GreaterThan => has && long.TryParse(value, out var g) && Values.Count == 1 && long.TryParse(Values[0], out var gb) && g > gb,
            LabelOperator.LessThan => has && long.TryParse(value, out var l) && Values.Count == 1 && long.TryParse(Values[0], out var lb) && l < lb,
            _ => false,
        };
    }
}

public enum LabelOperator
{
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}
