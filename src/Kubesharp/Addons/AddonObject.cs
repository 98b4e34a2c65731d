namespace Kubesharp.Addons;

/// <summary>One object an add-on manifest created, as its record names it.</summary>
internal sealed record AddonObject(string ApiVersion, string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}
