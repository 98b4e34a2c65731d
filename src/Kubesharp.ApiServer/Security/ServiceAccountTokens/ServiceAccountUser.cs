namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>The user name and groups a service account authenticates as.</summary>
internal static class ServiceAccountUser
{
    public const string Prefix = "system:serviceaccount:";
    public const string AllGroup = "system:serviceaccounts";

    public static string Name(string @namespace, string name) => $"{Prefix}{@namespace}:{name}";

    public static IReadOnlyList<string> Groups(string @namespace) => [AllGroup, $"{AllGroup}:{@namespace}", "system:authenticated"];
}
