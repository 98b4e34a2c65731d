namespace Kubesharp.Ingress;

/// <summary>How an Ingress path matches; ImplementationSpecific is served as Prefix.</summary>
internal enum IngressPathType
{
    Prefix,
    Exact,
}
