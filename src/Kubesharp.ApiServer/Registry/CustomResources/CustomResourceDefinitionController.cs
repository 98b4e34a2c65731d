using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry.Strategies;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// Serves what CustomResourceDefinitions define: watches them in the watch cache, puts a definition per served version
/// into the catalog, then reports NamesAccepted and Established. A deleted definition's objects are deleted before
/// the cleanup finalizer is removed and the resource leaves the catalog.
/// </summary>
internal sealed partial class CustomResourceDefinitionController(ResourceRegistry registry, ApiResource definitions, ILogger logger)
{
    private static readonly TimeSpan CleanupRetry = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, string> _served = new(StringComparer.Ordinal);

    /// <summary>Serves every stored definition (before the server reports ready), then follows changes until cancelled.</summary>
    public async Task<Task> StartAsync(CancellationToken cancellationToken)
    {
        var cache = registry.Cache.For(definitions);
        var subscription = cache.Subscribe(long.MaxValue, registry.Cache.Revision, wantsBookmarks: false, out _, out var snapshot, out _);
        foreach (var crd in snapshot.Values)
        {
            await ReconcileAsync(crd, cancellationToken).ConfigureAwait(false);
        }

        return Task.Run(() => RunAsync(subscription, cancellationToken), CancellationToken.None);
    }

    private async Task RunAsync(CacheSubscription? subscription, CancellationToken cancellationToken)
    {
        var cache = registry.Cache.For(definitions);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (subscription is null)
                {
                    // The cache was refilled (its watches ended): start over from its current content.
                    subscription = cache.Subscribe(long.MaxValue, registry.Cache.Revision, wantsBookmarks: false, out _, out var snapshot, out _);
                    foreach (var name in _served.Keys.Where(n => !snapshot.Values.Any(o => o.Name == n)).ToList())
                    {
                        Unserve(name);
                    }

                    foreach (var crd in snapshot.Values)
                    {
                        await ReconcileAsync(crd, cancellationToken).ConfigureAwait(false);
                    }
                }

                using (subscription)
                {
                    var reader = subscription!.Channel.Reader;
                    while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        while (reader.TryRead(out var change))
                        {
                            if (change.Type == CacheEventType.Deleted)
                            {
                                Unserve(change.Object!.Name);
                            }
                            else if (change.Object is { } crd)
                            {
                                await ReconcileAsync(crd, cancellationToken).ConfigureAwait(false);
                            }
                        }
                    }
                }

                subscription = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
                subscription = null;
                try
                {
                    await Task.Delay(CleanupRetry, registry.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ReconcileAsync(CachedObject crd, CancellationToken cancellationToken)
    {
        var node = crd.ToNode();
        if (crd.Metadata.TryGetProperty("deletionTimestamp", out _))
        {
            await CleanUpAsync(crd.Name, node, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The catalog holds the spec it was built from; a status write (ours) changes nothing to serve.
        var spec = node["spec"]?.ToJsonString() ?? string.Empty;
        if (!_served.TryGetValue(crd.Name, out var servedSpec) || servedSpec != spec)
        {
            var conflict = NameConflict(node);
            if (conflict is not null)
            {
                await SetStatusAsync(crd.Name, accepted: false, conflict, cancellationToken).ConfigureAwait(false);
                return;
            }

            IReadOnlyList<ResourceDefinition> served;
            try
            {
                served = CustomResourceVersion.FromDefinition(node, registry.Context, registry.Webhooks);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException or ArgumentException)
            {
                LogUnservable(logger, crd.Name, ex);
                return;
            }

            registry.Catalog.Put(crd.Name, served);
            _served[crd.Name] = spec;
            LogServing(logger, crd.Name, served.Count);
        }

        await SetStatusAsync(crd.Name, accepted: true, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Another definition (or a built-in resource) already serving these names in this group.</summary>
    private string? NameConflict(JsonObject crd)
    {
        var group = (string?)crd["spec"]?["group"] ?? string.Empty;
        var plural = (string?)crd["spec"]?["names"]?["plural"] ?? string.Empty;
        var kind = (string?)crd["spec"]?["names"]?["kind"] ?? string.Empty;
        if (registry.Catalog.IsBuiltInGroup(group))
        {
            return $"\"{plural}\" is already in use";
        }

        // As upstream's naming controller: resource names (plural, singular, short names) and kinds (kind, list kind)
        // already accepted for another definition of the group are refused.
        var names = crd["spec"]?["names"];
        var singular = (string?)names?["singular"] is { Length: > 0 } s ? s : kind.ToLowerInvariant();
        var listKind = (string?)names?["listKind"] is { Length: > 0 } l ? l : kind + "List";
        var shortNames = (names?["shortNames"] as JsonArray)?.Select(n => (string?)n).OfType<string>().ToList() ?? [];
        var resources = new HashSet<string>(StringComparer.Ordinal);
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var other in registry.Catalog.Current.Definitions.OfType<CustomResourceVersion>())
        {
            var r = other.Resource;
            // Definitions of the same group-resource are this definition's own (the name is plural.group).
            if (r.Group != group || r.GroupResource == $"{plural}.{group}")
            {
                continue;
            }

            resources.Add(r.Resource);
            resources.Add(r.SingularName);
            resources.UnionWith(r.ShortNames);
            kinds.Add(r.Kind);
            kinds.Add(r.ListKind);
        }

        foreach (var resource in new[] { plural, singular }.Concat(shortNames))
        {
            if (resources.Contains(resource))
            {
                return $"\"{resource}\" is already in use";
            }
        }

        foreach (var k in new[] { kind, listKind })
        {
            if (kinds.Contains(k))
            {
                return $"\"{k}\" is already in use";
            }
        }

        return null;
    }

    private void Unserve(string name)
    {
        if (_served.Remove(name))
        {
            registry.Catalog.Put(name, []);

            // The definition's name is its group-resource: watches of its objects end with it, as upstream.
            registry.Cache.For(name).EndWatches();
            LogRemoved(logger, name);
        }
    }

    /// <summary>NamesAccepted and Established (or NamesAccepted False on a conflict), acceptedNames from spec.names.</summary>
    private async Task SetStatusAsync(string name, bool accepted, string? conflict, CancellationToken cancellationToken)
    {
        var now = registry.Now();
        await registry.UpdateAsync(definitions, null, name, current =>
        {
            var node = current.ToNode();
            ((JsonObject)node["metadata"]!).Remove("resourceVersion");
            var status = node["status"] as JsonObject ?? [];
            node["status"] = status;
            var names = (node["spec"]?["names"] as JsonObject)?.DeepClone().AsObject() ?? [];
            if (accepted)
            {
                var kind = (string?)names["kind"] ?? string.Empty;
                names["singular"] ??= kind.ToLowerInvariant();
                names["listKind"] ??= kind + "List";
                status["acceptedNames"] = names;
            }

            var conditions = status["conditions"] as JsonArray ?? [];
            status["conditions"] = conditions;
            SetCondition(conditions, "NamesAccepted", accepted, accepted ? "NoConflicts" : "NameConflict", accepted ? "no conflicts found" : conflict!, now);
            SetCondition(conditions, "Established", accepted, accepted ? "InitialNamesAccepted" : "NotAccepted", accepted ? "the initial names have been accepted" : "not all names are accepted", now);
            return node;
        }, "status", dryRun: false, cancellationToken).ConfigureAwait(false);
    }

    private static void SetCondition(JsonArray conditions, string type, bool value, string reason, string message, string now)
    {
        var status = value ? "True" : "False";
        var condition = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);
        if (condition is null)
        {
            condition = new JsonObject { ["type"] = type };
            conditions.Add((JsonNode?)condition);
        }

        if ((string?)condition["status"] != status)
        {
            condition["lastTransitionTime"] = now;
        }

        condition["status"] = status;
        condition["reason"] = reason;
        condition["message"] = message;
    }

    /// <summary>Deletes the definition's objects; once none is left, lets the definition go.</summary>
    private async Task CleanUpAsync(string name, JsonObject crd, CancellationToken cancellationToken)
    {
        var finalizers = (crd["metadata"]?["finalizers"] as JsonArray)?.Select(f => (string?)f).ToList() ?? [];
        if (!finalizers.Contains(CustomResourceDefinitionStrategy.CleanupFinalizer))
        {
            return;
        }

        var group = (string?)crd["spec"]?["group"] ?? string.Empty;
        var plural = (string?)crd["spec"]?["names"]?["plural"] ?? string.Empty;
        var resource = registry.Catalog.Current.FindByGroupResource($"{plural}.{group}")?.Resource;
        var remaining = 0;
        if (resource is not null)
        {
            foreach (var obj in registry.Cache.For(resource).Snapshot.Values.ToList())
            {
                remaining++;
                if (obj.Metadata.TryGetProperty("deletionTimestamp", out _))
                {
                    continue;
                }

                try
                {
                    await registry.DeleteAsync(resource, obj.Namespace.Length == 0 ? null : obj.Namespace, obj.Name, new DeleteOptions { PropagationPolicy = "Background" }, cancellationToken).ConfigureAwait(false);
                }
                catch (StatusError error) when (error.Reason == "NotFound")
                {
                }
            }

            remaining = registry.Cache.For(resource).Snapshot.Count;
        }

        if (remaining > 0)
        {
            // Objects held by their finalizers: look again shortly.
            _ = Task.Run(
                async () =>
                {
                    await Task.Delay(CleanupRetry, registry.TimeProvider, cancellationToken).ConfigureAwait(false);
                    if (registry.Get(definitions, null, name) is { } again)
                    {
                        await ReconcileAsync(again, cancellationToken).ConfigureAwait(false);
                    }
                },
                CancellationToken.None);
            return;
        }

        try
        {
            await registry.UpdateAsync(definitions, null, name, current =>
            {
                var node = current.ToNode();
                var meta = (JsonObject)node["metadata"]!;
                meta.Remove("resourceVersion");
                if (meta["finalizers"] is JsonArray list)
                {
                    meta["finalizers"] = new JsonArray(list.Where(f => (string?)f != CustomResourceDefinitionStrategy.CleanupFinalizer).Select(f => f?.DeepClone()).ToArray());
                }

                return node;
            }, null, dryRun: false, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Reason == "NotFound")
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving custom resource {Name} in {Versions} version(s)")]
    private static partial void LogServing(ILogger logger, string name, int versions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Custom resource {Name} no longer served")]
    private static partial void LogRemoved(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CustomResourceDefinition {Name} cannot be served")]
    private static partial void LogUnservable(ILogger logger, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CustomResourceDefinition controller failed; starting over")]
    private static partial void LogFailed(ILogger logger, Exception exception);

}
