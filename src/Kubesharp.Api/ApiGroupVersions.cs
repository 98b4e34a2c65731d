namespace Kubesharp.Api;

/// <summary>An API group as discovery lists it: its served versions, the preferred one first.</summary>
public sealed record ApiGroupVersions(string Group, IReadOnlyList<string> Versions)
{
    public string PreferredVersion => Versions[0];
}
