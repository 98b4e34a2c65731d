namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>One term of a field selector: <c>status.phase=Running</c> or <c>spec.nodeName!=node-1</c>.</summary>
public sealed record FieldSelectorTerm(string Field, bool NotEquals, string Value)
{
    public override string ToString() => $"{Field}{(NotEquals ? "!=" : "=")}{FieldSelector.EscapeValue(Value)}";
}
