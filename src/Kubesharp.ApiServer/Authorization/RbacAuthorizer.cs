using System.Collections.Immutable;
using System.Text.Json;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Role-based access control over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the watch cache.
/// The bindings are indexed by subject (user, group; a ServiceAccount is its user name) and by namespace, so a
/// request looks at the grants of its own user and groups only, however many bindings exist. The index is built
/// again when one of the four caches changes.
/// </summary>
internal sealed class RbacAuthorizer
{
    public const string Group = "rbac.authorization.k8s.io";

    private readonly ResourceRegistry _registry;
    private readonly ApiResource _roles;
    private readonly ApiResource _clusterRoles;
    private readonly ApiResource _roleBindings;
    private readonly ApiResource _clusterRoleBindings;
    private readonly Lock _gate = new();
    private Index? _current;

    private RbacAuthorizer(ResourceRegistry registry, ApiResource roles, ApiResource clusterRoles, ApiResource roleBindings, ApiResource clusterRoleBindings)
    {
        _registry = registry;
        _roles = roles;
        _clusterRoles = clusterRoles;
        _roleBindings = roleBindings;
        _clusterRoleBindings = clusterRoleBindings;
    }

    /// <summary>The authorizer, or null when the catalog serves no rbac.authorization.k8s.io/v1.</summary>
    public static RbacAuthorizer? Create(ResourceRegistry registry) =>
        registry.Find(Group, "v1", "roles") is { } roles &&
        registry.Find(Group, "v1", "clusterroles") is { } clusterRoles &&
        registry.Find(Group, "v1", "rolebindings") is { } roleBindings &&
        registry.Find(Group, "v1", "clusterrolebindings") is { } clusterRoleBindings
            ? new RbacAuthorizer(registry, roles, clusterRoles, roleBindings, clusterRoleBindings)
            : null;

    public AuthorizationDecision Authorize(UserInfo user, RequestInfo request)
    {
        var index = Current();
        foreach (var grant in index.GrantsFor(user, request.Namespace))
        {
            foreach (var rule in grant.Rules)
            {
                if (rule.Allows(request))
                {
                    return AuthorizationDecision.Allow($"RBAC: allowed by {grant.Describe()}");
                }
            }
        }

        return AuthorizationDecision.NoOpinion();
    }

    /// <summary>Every rule that applies to <paramref name="user"/> in <paramref name="namespace"/> (cluster-wide ones only when empty).</summary>
    public List<PolicyRuleMatcher> RulesFor(UserInfo user, string @namespace) =>
        [.. Current().GrantsFor(user, @namespace).SelectMany(g => g.Rules)];

    /// <summary>The rules of the role a binding refers to; empty when it does not exist (yet).</summary>
    public IReadOnlyList<PolicyRuleMatcher> RoleRules(string kind, string name, string @namespace) =>
        Current().RoleRules(kind, name, @namespace);

    private Index Current()
    {
        var sources = (
            _registry.Cache.For(_roles).Snapshot,
            _registry.Cache.For(_clusterRoles).Snapshot,
            _registry.Cache.For(_roleBindings).Snapshot,
            _registry.Cache.For(_clusterRoleBindings).Snapshot);
        var current = Volatile.Read(ref _current);
        if (current is not null && current.IsBuiltFrom(sources))
        {
            return current;
        }

        lock (_gate)
        {
            current = _current;
            if (current is null || !current.IsBuiltFrom(sources))
            {
                current = new Index(sources);
                Volatile.Write(ref _current, current);
            }

            return current;
        }
    }

    /// <summary>One binding's grant: the rules of its role, with the names that explain a decision.</summary>
    private sealed record Grant(string BindingKind, string BindingName, string BindingNamespace, string RoleKind, string RoleName, string Subject, IReadOnlyList<PolicyRuleMatcher> Rules)
    {
        public string Describe() => BindingNamespace.Length == 0
            ? $"{BindingKind} \"{BindingName}\" of {RoleKind} \"{RoleName}\" to {Subject}"
            : $"{BindingKind} \"{BindingName}/{BindingNamespace}\" of {RoleKind} \"{RoleName}\" to {Subject}";
    }

    private sealed class Index
    {
        private readonly (ImmutableSortedDictionary<string, CachedObject> Roles, ImmutableSortedDictionary<string, CachedObject> ClusterRoles, ImmutableSortedDictionary<string, CachedObject> RoleBindings, ImmutableSortedDictionary<string, CachedObject> ClusterRoleBindings) _sources;
        private readonly Dictionary<string, List<PolicyRuleMatcher>> _clusterRoleRules = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Namespace, string Name), List<PolicyRuleMatcher>> _roleRules = [];
        private readonly Dictionary<string, List<Grant>> _clusterGrants = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Namespace, string Subject), List<Grant>> _namespacedGrants = [];

        public Index((ImmutableSortedDictionary<string, CachedObject>, ImmutableSortedDictionary<string, CachedObject>, ImmutableSortedDictionary<string, CachedObject>, ImmutableSortedDictionary<string, CachedObject>) sources)
        {
            _sources = sources;
            foreach (var role in _sources.ClusterRoles.Values)
            {
                _clusterRoleRules[role.Name] = PolicyRuleMatcher.ParseRules(role.Root);
            }

            foreach (var role in _sources.Roles.Values)
            {
                _roleRules[(role.Namespace, role.Name)] = PolicyRuleMatcher.ParseRules(role.Root);
            }

            foreach (var binding in _sources.ClusterRoleBindings.Values)
            {
                Add(binding, "ClusterRoleBinding", string.Empty);
            }

            foreach (var binding in _sources.RoleBindings.Values)
            {
                Add(binding, "RoleBinding", binding.Namespace);
            }
        }

        public bool IsBuiltFrom((ImmutableSortedDictionary<string, CachedObject> Roles, ImmutableSortedDictionary<string, CachedObject> ClusterRoles, ImmutableSortedDictionary<string, CachedObject> RoleBindings, ImmutableSortedDictionary<string, CachedObject> ClusterRoleBindings) sources) =>
            ReferenceEquals(sources.Roles, _sources.Roles) && ReferenceEquals(sources.ClusterRoles, _sources.ClusterRoles) &&
            ReferenceEquals(sources.RoleBindings, _sources.RoleBindings) && ReferenceEquals(sources.ClusterRoleBindings, _sources.ClusterRoleBindings);

        public IReadOnlyList<PolicyRuleMatcher> RoleRules(string kind, string name, string @namespace) =>
            (kind == "ClusterRole" ? _clusterRoleRules.GetValueOrDefault(name) : _roleRules.GetValueOrDefault((@namespace, name))) ?? [];

        public IEnumerable<Grant> GrantsFor(UserInfo user, string @namespace)
        {
            foreach (var grant in Lookup(UserKey(user.Name), @namespace))
            {
                yield return grant;
            }

            foreach (var group in user.Groups)
            {
                foreach (var grant in Lookup(GroupKey(group), @namespace))
                {
                    yield return grant;
                }
            }
        }

        private IEnumerable<Grant> Lookup(string subject, string @namespace)
        {
            if (_clusterGrants.TryGetValue(subject, out var cluster))
            {
                foreach (var grant in cluster)
                {
                    yield return grant;
                }
            }

            if (@namespace.Length > 0 && _namespacedGrants.TryGetValue((@namespace, subject), out var namespaced))
            {
                foreach (var grant in namespaced)
                {
                    yield return grant;
                }
            }
        }

        private void Add(CachedObject binding, string bindingKind, string @namespace)
        {
            var root = binding.Root;
            if (!root.TryGetProperty("roleRef", out var roleRef) || roleRef.ValueKind != JsonValueKind.Object ||
                !roleRef.TryGetProperty("kind", out var kindElement) || !roleRef.TryGetProperty("name", out var nameElement))
            {
                return;
            }

            var roleKind = kindElement.GetString() ?? string.Empty;
            var roleName = nameElement.GetString() ?? string.Empty;
            // A RoleBinding may refer to a Role of its own namespace or to a ClusterRole; a ClusterRoleBinding only to a ClusterRole.
            var rules = RoleRules(roleKind, roleName, @namespace);
            if (rules.Count == 0 || !root.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var subject in subjects.EnumerateArray())
            {
                if (SubjectKey(subject, @namespace) is not { } key)
                {
                    continue;
                }

                var grant = new Grant(bindingKind, binding.Name, @namespace, roleKind, roleName, key.Description, rules);
                if (@namespace.Length == 0)
                {
                    (_clusterGrants.TryGetValue(key.Key, out var list) ? list : _clusterGrants[key.Key] = []).Add(grant);
                }
                else
                {
                    (_namespacedGrants.TryGetValue((@namespace, key.Key), out var list) ? list : _namespacedGrants[(@namespace, key.Key)] = []).Add(grant);
                }
            }
        }

        private static (string Key, string Description)? SubjectKey(JsonElement subject, string bindingNamespace)
        {
            if (subject.ValueKind != JsonValueKind.Object || !subject.TryGetProperty("name", out var nameElement) || nameElement.GetString() is not { Length: > 0 } name)
            {
                return null;
            }

            var kind = subject.TryGetProperty("kind", out var k) ? k.GetString() : null;
            switch (kind)
            {
                case "User":
                    return (UserKey(name), $"User \"{name}\"");
                case "Group":
                    return (GroupKey(name), $"Group \"{name}\"");
                case "ServiceAccount":
                    var ns = subject.TryGetProperty("namespace", out var n) && n.GetString() is { Length: > 0 } given ? given : bindingNamespace;
                    return ns.Length == 0 ? null : (UserKey($"system:serviceaccount:{ns}:{name}"), $"ServiceAccount \"{ns}/{name}\"");
                default:
                    return null;
            }
        }

        private static string UserKey(string name) => "u:" + name;

        private static string GroupKey(string name) => "g:" + name;
    }
}
