namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>Operators of label selector requirements.</summary>
public enum SelectorOperator
{
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}
