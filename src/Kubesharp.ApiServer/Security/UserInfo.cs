namespace Kubesharp.ApiServer.Security;

/// <summary>An authenticated requester.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups);
