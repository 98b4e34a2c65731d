namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>What a service-account token says about whom it stands for (upstream's "kubernetes.io" private claim).</summary>
internal sealed record ServiceAccountTokenClaims(string Namespace, BoundObject ServiceAccount, BoundObject? Pod = null, BoundObject? Secret = null, BoundObject? Node = null)
{
    public string UserName => ServiceAccountUser.Name(Namespace, ServiceAccount.Name);
}
