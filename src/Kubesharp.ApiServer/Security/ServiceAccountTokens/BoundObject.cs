namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>An object a token names in its kubernetes.io claim: the service account, and the pod, secret or node it is bound to.</summary>
internal sealed record BoundObject(string Name, string Uid);
