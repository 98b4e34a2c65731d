using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// Upstream's param collection for a binding: no paramKind means one evaluation without params; otherwise the
/// object paramRef names, or every object its selector picks, in paramRef's namespace (the request's namespace when
/// unset and the param kind is namespaced). None found is allowed or a configuration error, as the binding says.
/// </summary>
internal sealed class PolicyParams(ResourceRegistry registry)
{
    public IReadOnlyList<JsonObject?> Collect((string ApiVersion, string Kind)? paramKind, ParamReference? paramRef, AdmissionAttributes attributes)
    {
        if (paramKind is not { } kind)
        {
            return [null];
        }

        if (paramRef is null)
        {
            throw new PolicyConfigurationException($"paramKind kind `{kind.Kind}` is defined but paramRef is nil");
        }

        var slash = kind.ApiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : kind.ApiVersion[..slash];
        var version = slash < 0 ? kind.ApiVersion : kind.ApiVersion[(slash + 1)..];
        var resource = registry.Resources.FirstOrDefault(r => r.Group == group && r.Version == version && r.Kind == kind.Kind)
            ?? throw new PolicyConfigurationException($"failed to find resource referenced by paramKind: '{Describe(group, version, kind.Kind)}'");

        string? @namespace = null;
        if (resource.Namespaced)
        {
            @namespace = paramRef.Namespace is { Length: > 0 } ns ? ns : attributes.Namespace;
            if (string.IsNullOrEmpty(@namespace))
            {
                throw new PolicyConfigurationException("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources");
            }
        }

        var found = new List<JsonObject?>();
        if (paramRef.Name is { Length: > 0 } name)
        {
            if (registry.Get(resource, @namespace, name) is { } single)
            {
                found.Add(single.ToNode());
            }
        }
        else if (paramRef.Selector is { } selector)
        {
            var cache = registry.Cache.For(resource);
            foreach (var candidate in (@namespace is null ? cache.Snapshot : cache.InNamespace(@namespace)).Values)
            {
                if (selector.Matches(candidate.Labels))
                {
                    found.Add(candidate.ToNode());
                }
            }
        }

        if (found.Count == 0 && !paramRef.AllowNotFound)
        {
            throw new PolicyConfigurationException("no params found for policy binding with `Deny` parameterNotFoundAction");
        }

        return found;
    }

    private static string Describe(string group, string version, string kind) =>
        group.Length == 0 ? $"/{version}, Kind={kind}" : $"{group}/{version}, Kind={kind}";
}

/// <summary>A policy or binding that cannot be applied as configured (its failure policy decides what happens).</summary>
internal sealed class PolicyConfigurationException(string message) : Exception(message);
