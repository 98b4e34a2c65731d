namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// Upstream's CEL authorizer library: <c>authorizer.group(g).resource(r).subresource(s).namespace(ns).name(n).check(verb)</c>,
/// <c>authorizer.path(p).check(verb)</c> and <c>authorizer.serviceAccount(ns, name)</c>, answering a decision with
/// <c>allowed()</c>, <c>reason()</c>, <c>errored()</c> and <c>error()</c>.
/// </summary>
internal static class CelAuthorizerLibrary
{
    public static CelType GroupCheck { get; } = CelType.Opaque("kubernetes.authorization.GroupCheck");

    public static CelType ResourceCheck { get; } = CelType.Opaque("kubernetes.authorization.ResourceCheck");

    public static CelType PathCheck { get; } = CelType.Opaque("kubernetes.authorization.PathCheck");

    public static CelType Decision { get; } = CelType.Opaque("kubernetes.authorization.Decision");

    public static void Register(Action<string, bool, CelType[], CelType, Func<object?[], object?>, CelCost> add)
    {
        var authorizer = CelType.Authorizer;
        var str = CelType.String;
        add("path", true, [authorizer, str], PathCheck, a => new CelPathCheck(Auth(a[0]), (string)a[1]!), CelCost.Constant);
        add("group", true, [authorizer, str], GroupCheck, a => new CelResourceCheck(Auth(a[0]), (string)a[1]!, string.Empty, string.Empty, string.Empty, string.Empty, IsGroup: true), CelCost.Constant);
        add("serviceAccount", true, [authorizer, str, str], authorizer, a => new CelAuthorizerValue(Auth(a[0]).ForServiceAccount((string)a[1]!, (string)a[2]!)), CelCost.Constant);
        add("resource", true, [GroupCheck, str], ResourceCheck, a => Resource(a[0]) with { Resource = (string)a[1]!, IsGroup = false }, CelCost.Constant);
        add("subresource", true, [ResourceCheck, str], ResourceCheck, a => Resource(a[0]) with { Subresource = (string)a[1]! }, CelCost.Constant);
        add("namespace", true, [ResourceCheck, str], ResourceCheck, a => Resource(a[0]) with { Namespace = (string)a[1]! }, CelCost.Constant);
        add("name", true, [ResourceCheck, str], ResourceCheck, a => Resource(a[0]) with { Name = (string)a[1]! }, CelCost.Constant);
        add("check", true, [ResourceCheck, str], Decision, a =>
        {
            var r = Resource(a[0]);
            return new CelDecision(r.Authorizer.Authorize(new CelAuthorizationCheck((string)a[1]!, null, r.Group, r.Resource, r.Subresource, r.Namespace, r.Name)));
        }, CelCost.Constant);
        add("check", true, [PathCheck, str], Decision, a =>
        {
            var p = (CelPathCheck)a[0]!;
            return new CelDecision(p.Authorizer.Authorize(new CelAuthorizationCheck((string)a[1]!, p.Path, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty)));
        }, CelCost.Constant);
        add("allowed", true, [Decision], CelType.Bool, a => ((CelDecision)a[0]!).Value.Allowed, CelCost.Constant);
        add("reason", true, [Decision], str, a => ((CelDecision)a[0]!).Value.Reason, CelCost.Constant);
        add("errored", true, [Decision], CelType.Bool, a => ((CelDecision)a[0]!).Value.Error.Length > 0, CelCost.Constant);
        add("error", true, [Decision], str, a => ((CelDecision)a[0]!).Value.Error, CelCost.Constant);
    }

    private static ICelAuthorizer Auth(object? value) => ((CelAuthorizerValue)value!).Authorizer;

    private static CelResourceCheck Resource(object? value) => (CelResourceCheck)value!;
}

/// <summary>A run-time value of a type only the host's libraries make (an authorizer, a check, a decision).</summary>
internal interface ICelOpaqueValue
{
    CelType Type { get; }
}

/// <summary>The <c>authorizer</c> variable's value, wrapping what the host supplies.</summary>
public sealed class CelAuthorizerValue(ICelAuthorizer authorizer) : ICelOpaqueValue
{
    internal ICelAuthorizer Authorizer { get; } = authorizer;

    CelType ICelOpaqueValue.Type => CelType.Authorizer;
}

internal sealed record CelPathCheck(ICelAuthorizer Authorizer, string Path) : ICelOpaqueValue
{
    public CelType Type => CelAuthorizerLibrary.PathCheck;
}

internal sealed record CelResourceCheck(ICelAuthorizer Authorizer, string Group, string Resource, string Subresource, string Namespace, string Name, bool IsGroup) : ICelOpaqueValue
{
    public CelType Type => IsGroup ? CelAuthorizerLibrary.GroupCheck : CelAuthorizerLibrary.ResourceCheck;
}

internal sealed record CelDecision(CelAuthorizationDecision Value) : ICelOpaqueValue
{
    public CelType Type => CelAuthorizerLibrary.Decision;
}
