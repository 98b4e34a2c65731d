namespace Kubesharp.ApiServer.Security;

/// <summary>An authenticated requester.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups)
{
    public const string Anonymous = "system:anonymous";
    public const string AuthenticatedGroup = "system:authenticated";
    public const string UnauthenticatedGroup = "system:unauthenticated";

    public string Uid { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Extra { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}
