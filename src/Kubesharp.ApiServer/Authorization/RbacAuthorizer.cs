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
/// again when one of the four caches changes (the next request sees the change); a role's rules are read once per
/// stored version of the role and kept across rebuilds, and each grant carries its ready-made reason, so an allowed
/// request allocates nothing here.
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
        if (index.FirstAllowing(SubjectKey.User(user.Name), request) is { } byUser)
        {
            return byUser.Decision;
        }

        var groups = user.Groups;
        for (var i = 0; i < groups.Count; i++)
        {
            if (index.FirstAllowing(SubjectKey.Group(groups[i]), request) is { } byGroup)
            {
                return byGroup.Decision;
            }
        }

        return AuthorizationDecision.NoOpinion();
    }

    /// <summary>Every rule that applies to <paramref name="user"/> in <paramref name="namespace"/> (cluster-wide ones only when empty).</summary>
    public List<PolicyRuleMatcher> RulesFor(UserInfo user, string @namespace)
    {
        var index = Current();
        var rules = new List<PolicyRuleMatcher>();
        index.AddRules(SubjectKey.User(user.Name), @namespace, rules);
        foreach (var group in user.Groups)
        {
            index.AddRules(SubjectKey.Group(group), @namespace, rules);
        }

        return rules;
    }

    /// <summary>The rules of the role a binding refers to; empty when it does not exist (yet).</summary>
    public IReadOnlyList<PolicyRuleMatcher> RoleRules(string kind, string name, string @namespace) =>
        Current().RoleRules(kind, name, @namespace);

    private Index Current()
    {
        var sources = new Sources(
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
                current = new Index(sources, current);
                Volatile.Write(ref _current, current);
            }

            return current;
        }
    }

    private readonly record struct Sources(
        ImmutableSortedDictionary<string, CachedObject> Roles,
        ImmutableSortedDictionary<string, CachedObject> ClusterRoles,
        ImmutableSortedDictionary<string, CachedObject> RoleBindings,
        ImmutableSortedDictionary<string, CachedObject> ClusterRoleBindings);

    /// <summary>A binding subject as the index keys it: a user name (service accounts included) or a group name.</summary>
    private readonly record struct SubjectKey(bool IsGroup, string Name)
    {
        public static SubjectKey User(string name) => new(false, name);

        public static SubjectKey Group(string name) => new(true, name);
    }

    /// <summary>The parsed rules of one stored version of a role; the version is the cached object itself.</summary>
    private sealed record ParsedRole(CachedObject Source, List<PolicyRuleMatcher> Rules);

    /// <summary>One binding's grant to one subject: the rules of its role, and the decision naming what allowed it.</summary>
    private sealed class Grant
    {
        public Grant(string bindingKind, string bindingName, string bindingNamespace, string roleKind, string roleName, string subject, List<PolicyRuleMatcher> rules)
        {
            Rules = rules;
            var binding = bindingNamespace.Length == 0 ? bindingName : $"{bindingName}/{bindingNamespace}";
            Decision = AuthorizationDecision.Allow($"RBAC: allowed by {bindingKind} \"{binding}\" of {roleKind} \"{roleName}\" to {subject}");
        }

        public List<PolicyRuleMatcher> Rules { get; }

        public AuthorizationDecision Decision { get; }

        public bool Allows(RequestInfo request)
        {
            foreach (var rule in Rules)
            {
                if (rule.Allows(request))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private sealed class Index
    {
        private readonly Sources _sources;
        private readonly Dictionary<string, ParsedRole> _clusterRoleRules = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Namespace, string Name), ParsedRole> _roleRules = [];
        private readonly Dictionary<SubjectKey, List<Grant>> _clusterGrants = [];
        private readonly Dictionary<(string Namespace, SubjectKey Subject), List<Grant>> _namespacedGrants = [];

        public Index(Sources sources, Index? previous)
        {
            _sources = sources;
            foreach (var role in _sources.ClusterRoles.Values)
            {
                _clusterRoleRules[role.Name] = previous is not null && previous._clusterRoleRules.TryGetValue(role.Name, out var parsed) && ReferenceEquals(parsed.Source, role)
                    ? parsed
                    : new ParsedRole(role, PolicyRuleMatcher.ParseRules(role.Root));
            }

            foreach (var role in _sources.Roles.Values)
            {
                _roleRules[(role.Namespace, role.Name)] = previous is not null && previous._roleRules.TryGetValue((role.Namespace, role.Name), out var parsed) && ReferenceEquals(parsed.Source, role)
                    ? parsed
                    : new ParsedRole(role, PolicyRuleMatcher.ParseRules(role.Root));
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

        public bool IsBuiltFrom(Sources sources) =>
            ReferenceEquals(sources.Roles, _sources.Roles) && ReferenceEquals(sources.ClusterRoles, _sources.ClusterRoles) &&
            ReferenceEquals(sources.RoleBindings, _sources.RoleBindings) && ReferenceEquals(sources.ClusterRoleBindings, _sources.ClusterRoleBindings);

        public IReadOnlyList<PolicyRuleMatcher> RoleRules(string kind, string name, string @namespace) =>
            Rules(kind, name, @namespace) ?? (IReadOnlyList<PolicyRuleMatcher>)[];

        /// <summary>The first grant of <paramref name="subject"/>, cluster-wide then in the request's namespace, that allows the request.</summary>
        public Grant? FirstAllowing(SubjectKey subject, RequestInfo request)
        {
            if (_clusterGrants.TryGetValue(subject, out var cluster))
            {
                foreach (var grant in cluster)
                {
                    if (grant.Allows(request))
                    {
                        return grant;
                    }
                }
            }

            if (request.Namespace.Length > 0 && _namespacedGrants.TryGetValue((request.Namespace, subject), out var namespaced))
            {
                foreach (var grant in namespaced)
                {
                    if (grant.Allows(request))
                    {
                        return grant;
                    }
                }
            }

            return null;
        }

        public void AddRules(SubjectKey subject, string @namespace, List<PolicyRuleMatcher> rules)
        {
            if (_clusterGrants.TryGetValue(subject, out var cluster))
            {
                foreach (var grant in cluster)
                {
                    rules.AddRange(grant.Rules);
                }
            }

            if (@namespace.Length > 0 && _namespacedGrants.TryGetValue((@namespace, subject), out var namespaced))
            {
                foreach (var grant in namespaced)
                {
                    rules.AddRange(grant.Rules);
                }
            }
        }

        private List<PolicyRuleMatcher>? Rules(string kind, string name, string @namespace) =>
            (kind == "ClusterRole" ? _clusterRoleRules.GetValueOrDefault(name) : _roleRules.GetValueOrDefault((@namespace, name)))?.Rules;

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
            var rules = Rules(roleKind, roleName, @namespace);
            if (rules is null || rules.Count == 0 || !root.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var subject in subjects.EnumerateArray())
            {
                if (Subject(subject, @namespace) is not { } key)
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

        private static (SubjectKey Key, string Description)? Subject(JsonElement subject, string bindingNamespace)
        {
            if (subject.ValueKind != JsonValueKind.Object || !subject.TryGetProperty("name", out var nameElement) || nameElement.GetString() is not { Length: > 0 } name)
            {
                return null;
            }

            var kind = subject.TryGetProperty("kind", out var k) ? k.GetString() : null;
            switch (kind)
            {
                case "User":
                    return (SubjectKey.User(name), $"User \"{name}\"");
                case "Group":
                    return (SubjectKey.Group(name), $"Group \"{name}\"");
                case "ServiceAccount":
                    var ns = subject.TryGetProperty("namespace", out var n) && n.GetString() is { Length: > 0 } given ? given : bindingNamespace;
                    return ns.Length == 0 ? null : (SubjectKey.User($"system:serviceaccount:{ns}:{name}"), $"ServiceAccount \"{ns}/{name}\"");
                default:
                    return null;
            }
        }
    }
}
