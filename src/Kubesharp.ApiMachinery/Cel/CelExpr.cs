namespace Kubesharp.ApiMachinery.Cel;

/// <summary>A node of a parsed CEL expression; <see cref="Position"/> is the offset in the source for error carets.</summary>
internal abstract record CelExpr(int Position);

internal sealed record CelLiteral(int Position, object? Value) : CelExpr(Position);

internal sealed record CelIdent(int Position, string Name) : CelExpr(Position);

/// <summary>Field selection; <c>TestOnly</c> is the has() macro, <c>Optional</c> the <c>.?field</c> form.</summary>
internal sealed record CelSelect(int Position, CelExpr Operand, string Field, bool TestOnly, bool Optional) : CelExpr(Position);

internal sealed record CelIndex(int Position, CelExpr Operand, CelExpr Key, bool Optional) : CelExpr(Position);

/// <summary>A function or operator call (operators use upstream's names, e.g. <c>_+_</c>); <c>Target</c> for receiver-style calls.</summary>
internal sealed record CelCall(int Position, string Function, CelExpr? Target, IReadOnlyList<CelExpr> Args) : CelExpr(Position);

internal sealed record CelList(int Position, IReadOnlyList<CelExpr> Elements) : CelExpr(Position);

internal sealed record CelMap(int Position, IReadOnlyList<(CelExpr Key, CelExpr Value)> Entries) : CelExpr(Position);

/// <summary>A message construction, <c>Type{field: value, ...}</c> (admission policies build JSONPatch and Object values so).</summary>
internal sealed record CelStruct(int Position, string TypeName, IReadOnlyList<(string Field, CelExpr Value)> Fields) : CelExpr(Position);

internal enum CelMacroKind
{
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
}

/// <summary>A comprehension macro over a list (elements) or map (keys): all, exists, exists_one, map, filter.</summary>
internal sealed record CelComprehension(int Position, CelMacroKind Kind, CelExpr Range, string Variable, CelExpr Body, CelExpr? Transform) : CelExpr(Position);
