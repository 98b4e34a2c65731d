using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// Reads the GatewayClasses, Gateways and HTTPRoutes (JSON from the informer caches) as upstream defines them and
/// produces both what the proxy serves (<see cref="GatewayRoutes"/>) and the status each object should have:
/// classes of <see cref="IngressOptions.GatewayControllerName"/> are accepted; their Gateways' HTTP and HTTPS listeners
/// are served on the proxy's ports; an HTTPRoute attaches to the listeners its parentRefs select that allow its
/// namespace and share a hostname with it. Routes are taken oldest first, so among equal matches the older wins.
/// </summary>
internal sealed class GatewayRouteBuilder(ServiceEndpoints endpoints, Lister<Secret> secrets, Lister<Namespace> namespaces, IngressCertificateCache certificates)
{
    private const string RouteKind = "HTTPRoute";

    public (GatewayRoutes Routes, List<GatewayStatusUpdate> Statuses) Build(
        IReadOnlyList<JsonObject> classes, IReadOnlyList<JsonObject> gateways, IReadOnlyList<JsonObject> routes, GatewayReferenceGrants grants, IReadOnlyList<string> addresses, DateTimeOffset now)
    {
        var statuses = new List<GatewayStatusUpdate>();
        var ours = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gatewayClass in classes.Where(c => (string?)c["spec"]?["controllerName"] == IngressOptions.GatewayControllerName))
        {
            ours.Add(Name(gatewayClass));
            var accepted = new GatewayCondition("Accepted", true, "Accepted", "Handled by the built-in gateway controller");
            statuses.Add(new GatewayStatusUpdate(
                GatewayCustomResources.GatewayClasses + "/" + Name(gatewayClass),
                new JsonObject { ["conditions"] = GatewayCondition.ToJson([accepted], Generation(gatewayClass), gatewayClass["status"]?["conditions"], now) }));
        }

        var served = gateways.Where(g => ours.Contains((string?)g["spec"]?["gatewayClassName"] ?? string.Empty)).ToList();
        var listeners = served.ToDictionary(Key, g => Listeners(g, grants), StringComparer.Ordinal);
        var tables = new Dictionary<string, Table>(StringComparer.Ordinal) { ["HTTP"] = new(), ["HTTPS"] = new() };
        var order = 0;
        foreach (var route in routes.OrderBy(r => (string?)r["metadata"]?["creationTimestamp"], StringComparer.Ordinal).ThenBy(Key, StringComparer.Ordinal))
        {
            if (Attach(route, listeners, tables, grants, order, now) is { } status)
            {
                statuses.Add(status);
            }

            order += 1000;
        }

        var certificatesByHost = new Dictionary<string, X509Certificate2>(StringComparer.Ordinal);
        X509Certificate2? defaultCertificate = null;
        foreach (var gateway in served)
        {
            var own = listeners[Key(gateway)];
            foreach (var listener in own.Where(l => l.Valid && l.Certificate is not null))
            {
                if (listener.Hostname is null)
                {
                    defaultCertificate ??= listener.Certificate;
                }
                else
                {
                    certificatesByHost.TryAdd(listener.Hostname, listener.Certificate!);
                }
            }

            statuses.Add(GatewayStatus(gateway, own, addresses, now));
        }

        return (new GatewayRoutes(tables["HTTP"].ToHostTable(), tables["HTTPS"].ToHostTable(), certificatesByHost, defaultCertificate), statuses);
    }

    private static GatewayStatusUpdate GatewayStatus(JsonObject gateway, List<Listener> listeners, IReadOnlyList<string> addresses, DateTimeOffset now)
    {
        var generation = Generation(gateway);
        var current = gateway["status"] as JsonObject;
        var anyValid = listeners.Any(l => l.Valid);
        GatewayCondition[] conditions = anyValid
            ? [new("Accepted", true, "Accepted", "Accepted by the built-in gateway controller"), new("Programmed", true, "Programmed", "Served by the ingress proxy")]
            : [new("Accepted", false, "ListenersNotValid", "No listener is valid"), new("Programmed", false, "Invalid", "No listener is valid")];
        var listenerStatuses = new JsonArray();
        foreach (var listener in listeners)
        {
            var currentConditions = (current?["listeners"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(l => (string?)l["name"] == listener.Name)?["conditions"];
            listenerStatuses.Add((JsonNode)new JsonObject
            {
                ["name"] = listener.Name,
                ["supportedKinds"] = listener.Protocol is "HTTP" or "HTTPS" ? new JsonArray(new JsonObject { ["group"] = GatewayCustomResources.Group, ["kind"] = RouteKind }) : new JsonArray(),
                ["attachedRoutes"] = listener.AttachedRoutes,
                ["conditions"] = GatewayCondition.ToJson(listener.Conditions(), generation, currentConditions, now),
            });
        }

        var status = new JsonObject
        {
            ["addresses"] = new JsonArray([.. addresses.Select(a => (JsonNode)new JsonObject { ["type"] = IPAddress.TryParse(a, out _) ? "IPAddress" : "Hostname", ["value"] = a })]),
            ["conditions"] = GatewayCondition.ToJson(conditions, generation, current?["conditions"], now),
            ["listeners"] = listenerStatuses,
        };
        return new GatewayStatusUpdate(ObjectPath(GatewayCustomResources.Gateways, gateway), status);
    }

    /// <summary>The listeners of a served Gateway, each checked as upstream does (protocol, certificates, route kinds).</summary>
    private List<Listener> Listeners(JsonObject gateway, GatewayReferenceGrants grants)
    {
        var ns = Namespace(gateway);
        var result = new List<Listener>();
        foreach (var item in (gateway["spec"]?["listeners"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var listener = new Listener(
                (string?)item["name"] ?? string.Empty,
                ((string?)item["hostname"])?.ToLowerInvariant(),
                (int?)item["port"] ?? 0,
                (string?)item["protocol"] ?? string.Empty,
                ns,
                (string?)item["allowedRoutes"]?["namespaces"]?["from"] ?? "Same",
                item["allowedRoutes"]?["namespaces"]?["selector"] as JsonObject);
            if (listener.Protocol is not ("HTTP" or "HTTPS"))
            {
                listener.Reject("Accepted", "UnsupportedProtocol", $"Protocol {listener.Protocol} is not supported; HTTP and HTTPS are");
            }
            else if (item["allowedRoutes"]?["kinds"] is JsonArray { Count: > 0 } kinds
                && !kinds.OfType<JsonObject>().Any(k => ((string?)k["group"] ?? GatewayCustomResources.Group) == GatewayCustomResources.Group && (string?)k["kind"] == RouteKind))
            {
                listener.Reject("ResolvedRefs", "InvalidRouteKinds", "Only HTTPRoute is supported");
            }
            else if (listener.Protocol == "HTTPS")
            {
                Certificate(listener, item["tls"] as JsonObject, grants);
            }

            result.Add(listener);
        }

        return result;
    }

    private void Certificate(Listener listener, JsonObject? tls, GatewayReferenceGrants grants)
    {
        if ((string?)tls?["mode"] is "Passthrough")
        {
            listener.Reject("Accepted", "UnsupportedValue", "TLS mode Passthrough is not supported on HTTPS listeners");
            return;
        }

        if (tls?["certificateRefs"] is not JsonArray { Count: > 0 } refs || refs[0] is not JsonObject reference)
        {
            listener.Reject("ResolvedRefs", "InvalidCertificateRef", "An HTTPS listener needs a certificateRef");
            return;
        }

        var ns = (string?)reference["namespace"] ?? listener.Namespace;
        if (((string?)reference["group"] ?? string.Empty) != string.Empty || ((string?)reference["kind"] ?? "Secret") != "Secret")
        {
            listener.Reject("ResolvedRefs", "InvalidCertificateRef", "Only Secrets are supported as certificateRefs");
        }
        else if (!grants.Permits(GatewayCustomResources.Group, "Gateway", listener.Namespace, string.Empty, "Secret", ns, (string?)reference["name"] ?? string.Empty))
        {
            listener.Reject("ResolvedRefs", "RefNotPermitted", $"No ReferenceGrant in {ns} permits Gateways of {listener.Namespace} to use Secret {(string?)reference["name"]}");
        }
        else if (secrets.Get(ns, (string?)reference["name"] ?? string.Empty) is not { } secret || certificates.Get(secret) is not { } certificate)
        {
            listener.Reject("ResolvedRefs", "InvalidCertificateRef", $"Secret {ns}/{(string?)reference["name"]} does not exist or holds no valid tls.crt and tls.key");
        }
        else
        {
            listener.Certificate = certificate;
        }
    }

    /// <summary>Attaches a route to the listeners of its parentRefs; its status, or null when no parent is ours and it has none of ours to clear.</summary>
    private GatewayStatusUpdate? Attach(JsonObject route, Dictionary<string, List<Listener>> listeners, Dictionary<string, Table> tables, GatewayReferenceGrants grants, int order, DateTimeOffset now)
    {
        var ns = Namespace(route);
        var generation = Generation(route);
        var hostnames = (route["spec"]?["hostnames"] as JsonArray ?? []).Select(h => ((string?)h ?? string.Empty).ToLowerInvariant()).ToList();
        var current = route["status"]?["parents"] as JsonArray ?? [];
        var parents = new JsonArray([.. current.OfType<JsonObject>().Where(p => (string?)p["controllerName"] != IngressOptions.GatewayControllerName).Select(p => p.DeepClone())]);
        var hadOurs = parents.Count != current.Count;
        var resolved = ResolvedRefs(route, ns, grants);
        var (rules, problems) = Compile(route, order, resolved.Pools);
        var resolvedCondition = resolved.Condition.Status ? problems.FirstOrDefault(p => p.Type == "ResolvedRefs") ?? resolved.Condition : resolved.Condition;
        var acceptedProblem = problems.FirstOrDefault(p => p.Type == "Accepted");
        // Where the route is served, per listener protocol: its hostnames there (null: any host).
        var served = new Dictionary<string, HashSet<string>?>(StringComparer.Ordinal);
        var ourParents = 0;
        foreach (var parentRef in (route["spec"]?["parentRefs"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var gatewayNs = (string?)parentRef["namespace"] ?? ns;
            if (((string?)parentRef["group"] ?? GatewayCustomResources.Group) != GatewayCustomResources.Group || ((string?)parentRef["kind"] ?? "Gateway") != "Gateway"
                || !listeners.TryGetValue(ObjectKey.Of(gatewayNs, (string?)parentRef["name"] ?? string.Empty), out var candidates))
            {
                continue;
            }

            ourParents++;
            var sectionName = (string?)parentRef["sectionName"];
            var port = (int?)parentRef["port"];
            var selected = candidates.Where(l => (sectionName is null || l.Name == sectionName) && (port is null || l.Port == port) && l.Valid).ToList();
            var allowed = selected.Where(l => Allows(l, ns)).ToList();
            var accepting = new List<Listener>();
            foreach (var listener in allowed)
            {
                if (Intersect(listener.Hostname, hostnames) is not { } names)
                {
                    continue;
                }

                accepting.Add(listener);
                listener.AttachedRoutes++;
                if (!served.TryGetValue(listener.Protocol, out var hosts))
                {
                    served[listener.Protocol] = hosts = [];
                }

                served[listener.Protocol] = names.Count == 0 || hosts is null ? null : [.. hosts, .. names];
            }

            // A route with a filter or match this proxy cannot apply is still served (those requests answered 500) but not Accepted.
            GatewayCondition accepted = accepting.Count > 0 ? acceptedProblem ?? new("Accepted", true, "Accepted", "Attached to the Gateway")
                : selected.Count == 0 ? new("Accepted", false, "NoMatchingParent", "No valid listener matches the parentRef's sectionName and port")
                : allowed.Count == 0 ? new("Accepted", false, "NotAllowedByListeners", "No listener allows routes from this namespace")
                : new("Accepted", false, "NoMatchingListenerHostname", "No listener hostname matches the route's hostnames");
            var previous = current.OfType<JsonObject>().FirstOrDefault(p => (string?)p["controllerName"] == IngressOptions.GatewayControllerName && JsonNode.DeepEquals(p["parentRef"], parentRef))?["conditions"];
            parents.Add((JsonNode)new JsonObject
            {
                ["parentRef"] = parentRef.DeepClone(),
                ["controllerName"] = IngressOptions.GatewayControllerName,
                ["conditions"] = GatewayCondition.ToJson([accepted, resolvedCondition], generation, previous, now),
            });
        }

        foreach (var (protocol, hosts) in served)
        {
            foreach (var rule in rules)
            {
                tables[protocol].Add(hosts, rule);
            }
        }

        return ourParents == 0 && !hadOurs ? null
            : new GatewayStatusUpdate(ObjectPath(GatewayCustomResources.HttpRoutes, route), new JsonObject { ["parents"] = parents });
    }

    /// <summary>Every match of the route's rules compiled, and the conditions for what the proxy cannot apply.</summary>
    private static (List<GatewayRouteRule> Rules, List<GatewayCondition> Problems) Compile(JsonObject route, int order, Dictionary<JsonObject, IngressBackendPool?> pools)
    {
        var rules = new List<GatewayRouteRule>();
        var problems = new List<GatewayCondition>();
        var index = 0;
        foreach (var rule in (route["spec"]?["rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var filters = GatewayFilters.Parse(rule["filters"], pools);
            problems.AddRange(filters.Problems);
            var timeout = Timeout(rule["timeouts"] as JsonObject, problems);
            var choices = new List<(IngressBackendPool?, int, GatewayFilters)>();
            foreach (var reference in (rule["backendRefs"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var own = filters.Then(GatewayFilters.Parse(reference["filters"], pools));
                problems.AddRange(own.Problems);
                choices.Add((pools.GetValueOrDefault(reference), (int?)reference["weight"] ?? 1, own));
            }

            var matches = rule["matches"] as JsonArray is { Count: > 0 } given ? given.OfType<JsonObject>() : [new JsonObject()];
            foreach (var match in matches)
            {
                if (Rule(match, filters, choices, timeout, order + index, problems) is { } compiled)
                {
                    rules.Add(compiled);
                }
            }

            index++;
        }

        return (rules, problems);
    }

    /// <summary>
    /// How long a request of the rule may take before it is answered 504: the shorter of the <c>request</c> and
    /// <c>backendRequest</c> timeouts (this proxy does not retry, so each request makes one backend request); 0 turns one off.
    /// </summary>
    private static TimeSpan? Timeout(JsonObject? timeouts, List<GatewayCondition> problems)
    {
        TimeSpan? shortest = null;
        TimeSpan? request = null;
        foreach (var field in new[] { "request", "backendRequest" })
        {
            if (timeouts?[field] is not { } node)
            {
                continue;
            }

            if (GatewayDuration.Parse((string?)node) is not { } value)
            {
                problems.Add(new GatewayCondition("Accepted", false, "UnsupportedValue", $"timeouts.{field} {(string?)node} is not a duration"));
                continue;
            }

            if (field == "request")
            {
                request = value;
            }
            else if (request is { } whole && whole > TimeSpan.Zero && value > whole)
            {
                problems.Add(new GatewayCondition("Accepted", false, "UnsupportedValue", "timeouts.backendRequest must not be longer than timeouts.request"));
            }

            if (value > TimeSpan.Zero && (shortest is null || value < shortest))
            {
                shortest = value;
            }
        }

        return shortest;
    }

    /// <summary>One match compiled; null when it uses what is not supported (then it matches nothing and the route says why).</summary>
    private static GatewayRouteRule? Rule(JsonObject match, GatewayFilters filters, List<(IngressBackendPool?, int, GatewayFilters)> choices, TimeSpan? timeout, int order, List<GatewayCondition> problems)
    {
        var pathType = (string?)match["path"]?["type"] ?? "PathPrefix";
        var pathValue = (string?)match["path"]?["value"] ?? "/";
        string? error = null;
        Regex? pathPattern = null;
        if (pathType == "RegularExpression")
        {
            pathPattern = GatewayValueMatch.Compile(pathValue, out error);
        }
        else if (pathType is not ("PathPrefix" or "Exact"))
        {
            error = $"path match type {pathType} is not supported";
        }
        else if (pathType != "PathPrefix" && (filters.ReplacesPrefix || choices.Any(c => c.Item3.ReplacesPrefix)))
        {
            error = "ReplacePrefixMatch needs a PathPrefix match";
        }

        var headers = new List<GatewayValueMatch>();
        var query = new List<GatewayValueMatch>();
        foreach (var (source, target) in new[] { (match["headers"], headers), (match["queryParams"], query) })
        {
            foreach (var item in (source as JsonArray ?? []).OfType<JsonObject>())
            {
                var name = (string?)item["name"] ?? string.Empty;
                var value = (string?)item["value"] ?? string.Empty;
                var type = (string?)item["type"] ?? "Exact";
                Regex? pattern = null;
                if (type == "RegularExpression")
                {
                    pattern = GatewayValueMatch.Compile(value, out var patternError);
                    error ??= patternError;
                }
                else if (type != "Exact")
                {
                    error ??= $"match type {type} is not supported";
                }

                // Of several entries for one name only the first counts (header names compare without case).
                if (!target.Any(m => string.Equals(m.Name, name, target == headers ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)))
                {
                    target.Add(new GatewayValueMatch(name, value, pattern));
                }
            }
        }

        if (error is not null)
        {
            problems.Add(new GatewayCondition("Accepted", false, "UnsupportedValue", error));
            return null;
        }

        return new GatewayRouteRule(
            pathValue,
            pathType == "Exact" ? IngressPathType.Exact : IngressPathType.Prefix,
            pathPattern,
            headers,
            query,
            (string?)match["method"],
            filters,
            new GatewayBackend(choices, pathValue),
            timeout,
            order);
    }

    /// <summary>The pool of every backendRef (null when it cannot be resolved) and the route's ResolvedRefs condition.</summary>
    private (Dictionary<JsonObject, IngressBackendPool?> Pools, GatewayCondition Condition) ResolvedRefs(JsonObject route, string ns, GatewayReferenceGrants grants)
    {
        var pools = new Dictionary<JsonObject, IngressBackendPool?>(ReferenceEqualityComparer.Instance);
        GatewayCondition? failure = null;
        foreach (var reference in References(route))
        {
            var name = (string?)reference["name"] ?? string.Empty;
            var refNs = (string?)reference["namespace"] ?? ns;
            var port = (int?)reference["port"];
            GatewayCondition? problem = null;
            if (((string?)reference["group"] ?? string.Empty) != string.Empty || ((string?)reference["kind"] ?? "Service") != "Service")
            {
                problem = new("ResolvedRefs", false, "InvalidKind", $"backendRef {name} is not a Service");
            }
            else if (!grants.Permits(GatewayCustomResources.Group, RouteKind, ns, string.Empty, "Service", refNs, name))
            {
                problem = new("ResolvedRefs", false, "RefNotPermitted", $"No ReferenceGrant in {refNs} permits HTTPRoutes of {ns} to reference Service {name}");
            }
            else if (endpoints.Service(refNs, name) is null)
            {
                problem = new("ResolvedRefs", false, "BackendNotFound", $"Service {refNs}/{name} does not exist");
            }
            else if (port is null)
            {
                problem = new("ResolvedRefs", false, "UnsupportedValue", $"backendRef {name} needs a port");
            }

            failure ??= problem;
            pools[reference] = problem is not null ? null
                : new IngressBackendPool($"{refNs}/{name}:{port!.Value.ToString(CultureInfo.InvariantCulture)}", endpoints.Destinations(refNs, name, p => p.Port == port));
        }

        return (pools, failure ?? new GatewayCondition("ResolvedRefs", true, "ResolvedRefs", "All references resolved"));
    }

    /// <summary>Every backendRef of the route: the rules' and those of their RequestMirror filters (on a rule or a backendRef).</summary>
    private static IEnumerable<JsonObject> References(JsonObject route)
    {
        foreach (var rule in (route["spec"]?["rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var backendRefs = (rule["backendRefs"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var filters = (rule["filters"] as JsonArray ?? []).Concat(backendRefs.SelectMany(b => b["filters"] as JsonArray ?? [])).OfType<JsonObject>();
            foreach (var reference in backendRefs.Concat(filters.Where(f => (string?)f["type"] == "RequestMirror").Select(GatewayMirror.Reference).OfType<JsonObject>()))
            {
                yield return reference;
            }
        }
    }

    private bool Allows(Listener listener, string routeNamespace) => listener.From switch
    {
        "All" => true,
        "Selector" => listener.Selector is { } selector && namespaces.Get(null, routeNamespace)?.Metadata?.Labels is var labels && Selects(selector, labels ?? []),
        _ => routeNamespace == listener.Namespace,
    };

    private static bool Selects(JsonObject selector, Dictionary<string, string> labels)
    {
        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            if (labels.GetValueOrDefault(key) != (string?)value)
            {
                return false;
            }
        }

        foreach (var expression in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = (string?)expression["key"] ?? string.Empty;
            var values = (expression["values"] as JsonArray ?? []).Select(v => (string?)v).ToList();
            var has = labels.TryGetValue(key, out var value);
            var ok = (string?)expression["operator"] switch
            {
                "In" => has && values.Contains(value),
                "NotIn" => !has || !values.Contains(value),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The hostnames a route serves through a listener: the route's where the listener has none, the listener's where
    /// the route has none (empty: any host), else those of each that the other covers; null when they share none.
    /// </summary>
    internal static List<string>? Intersect(string? listener, List<string> route)
    {
        if (listener is null)
        {
            return route;
        }

        if (route.Count == 0)
        {
            return [listener];
        }

        var result = new List<string>();
        foreach (var hostname in route)
        {
            if (hostname == listener || Covers(listener, hostname))
            {
                result.Add(hostname);
            }
            else if (Covers(hostname, listener))
            {
                result.Add(listener);
            }
        }

        return result.Count > 0 ? result : null;
    }

    /// <summary>Whether a wildcard hostname covers another (one or more labels in place of the '*').</summary>
    private static bool Covers(string wildcard, string hostname) =>
        wildcard.StartsWith("*.", StringComparison.Ordinal) && hostname.Length > wildcard.Length - 1
        && hostname.EndsWith(wildcard[1..], StringComparison.Ordinal) && (!hostname.StartsWith("*.", StringComparison.Ordinal) || hostname.Length > wildcard.Length);

    private static string Name(JsonObject obj) => (string?)obj["metadata"]?["name"] ?? string.Empty;

    private static string Namespace(JsonObject obj) => (string?)obj["metadata"]?["namespace"] ?? string.Empty;

    private static string Key(JsonObject obj) => ObjectKey.Of(Namespace(obj), Name(obj));

    private static long Generation(JsonObject obj) => (long?)obj["metadata"]?["generation"] ?? 0;

    private static string ObjectPath(string collection, JsonObject obj) =>
        collection.Replace("/" + GatewayCustomResources.Version + "/", $"/{GatewayCustomResources.Version}/namespaces/{Namespace(obj)}/", StringComparison.Ordinal) + "/" + Name(obj);

    /// <summary>A listener of a served Gateway, what is wrong with it and how many routes attached.</summary>
    private sealed class Listener(string name, string? hostname, int port, string protocol, string ns, string from, JsonObject? selector)
    {
        private readonly Dictionary<string, (string Reason, string Message)> problems = new(StringComparer.Ordinal);

        public string Name { get; } = name;

        public string? Hostname { get; } = hostname;

        public int Port { get; } = port;

        public string Protocol { get; } = protocol;

        public string Namespace { get; } = ns;

        public string From { get; } = from;

        public JsonObject? Selector { get; } = selector;

        public X509Certificate2? Certificate { get; set; }

        public int AttachedRoutes { get; set; }

        public bool Valid => problems.Count == 0;

        /// <summary>Sets a condition (Accepted or ResolvedRefs) to False.</summary>
        public void Reject(string type, string reason, string message) => problems.TryAdd(type, (reason, message));

        public IEnumerable<GatewayCondition> Conditions()
        {
            yield return problems.TryGetValue("Accepted", out var accepted) ? new("Accepted", false, accepted.Reason, accepted.Message) : new("Accepted", true, "Accepted", "Listener accepted");
            yield return problems.TryGetValue("ResolvedRefs", out var refs) ? new("ResolvedRefs", false, refs.Reason, refs.Message) : new("ResolvedRefs", true, "ResolvedRefs", "All references resolved");
            yield return Valid ? new("Programmed", true, "Programmed", "Served by the ingress proxy") : new("Programmed", false, "Invalid", "The listener is not valid");
            yield return new("Conflicted", false, "NoConflicts", "No conflicts");
        }
    }

    /// <summary>The compiled matches per hostname, while building.</summary>
    private sealed class Table
    {
        private readonly Dictionary<string, List<GatewayRouteRule>> hosts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<GatewayRouteRule>> wildcards = new(StringComparer.Ordinal);
        private readonly List<GatewayRouteRule> anyHost = [];

        /// <param name="hostnames">Where the rule is served; null: any host.</param>
        public void Add(HashSet<string>? hostnames, GatewayRouteRule rule)
        {
            if (hostnames is null)
            {
                anyHost.Add(rule);
                return;
            }

            foreach (var hostname in hostnames)
            {
                var (buckets, key) = hostname.StartsWith("*.", StringComparison.Ordinal) ? (wildcards, hostname[1..]) : (hosts, hostname);
                if (!buckets.TryGetValue(key, out var list))
                {
                    buckets[key] = list = [];
                }

                list.Add(rule);
            }
        }

        public GatewayHostTable ToHostTable()
        {
            var precedence = Comparer<GatewayRouteRule>.Create(GatewayRouteRule.Precedence);
            return new GatewayHostTable(
                hosts.ToDictionary(h => h.Key, h => h.Value.Order(precedence).ToArray(), StringComparer.Ordinal),
                [.. wildcards.OrderByDescending(w => w.Key.Length).Select(w => new KeyValuePair<string, GatewayRouteRule[]>(w.Key, [.. w.Value.Order(precedence)]))],
                [.. anyHost.Order(precedence)]);
        }
    }
}
