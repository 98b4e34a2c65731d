namespace Kubesharp.ApiMachinery.Cel;

/// <summary>A CEL optional value: <c>optional.of(x)</c> or <c>optional.none()</c>.</summary>
public sealed record CelOptional(bool HasValue, object? Value)
{
    public static CelOptional None { get; } = new(false, null);

    public static CelOptional Of(object? value) => new(true, value);
}
