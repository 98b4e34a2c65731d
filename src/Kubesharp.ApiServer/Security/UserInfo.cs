namespace Kubesharp.ApiServer.Security;

/// <summary>An authenticated requester; service-account tokens carry the account's uid and extra values (pod name, credential id).</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups, string? Uid = null, IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra = null);
