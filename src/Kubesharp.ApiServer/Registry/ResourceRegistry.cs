using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Admission;
using Kubesharp.ApiServer.Admission.Webhooks;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.History;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Printing;
using Kubesharp.ApiServer.Registry.Strategies;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// Generic storage of every resource as JSON under /registry/&lt;group-resource&gt;/[&lt;namespace&gt;/]&lt;name&gt;:
/// create, update, delete with upstream metadata rules, plus the kind strategies and the bootstrap objects.
/// Reads come from the watch cache; every write waits until the cache shows it.
/// </summary>
internal sealed partial class ResourceRegistry
{
    // A write without a precondition is retried on the latest object until it lands, as upstream does;
    // the bound only guards against a livelock under pathological contention.
    private const int MaxRetries = 256;
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private static readonly string[] OmittedWhenEmpty = ["labels", "annotations", "ownerReferences", "finalizers", "managedFields"];

    /// <summary>Metadata an update cannot change: the old object's values are kept.</summary>
    private static readonly string[] KeptOnUpdate = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"];

    private readonly ILogger _logger;

    public ResourceRegistry(IReadOnlyList<ApiResource> resources, WatchCache cache, IStore store, ApiServerOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        Cache = cache;
        Store = store;
        Options = options;
        TimeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<ResourceRegistry>();
        Context = new RegistryContext(cache, timeProvider, options);
        Catalog = new ResourceCatalog(BuiltinDefinitions.Create(resources, Context));
        Namespaces = resources.FirstOrDefault(r => r.GroupResource == "namespaces");
        Webhooks = new WebhookClient(this);
        Admission = AdmissionChain.Default(this, loggerFactory);
    }

    /// <summary>How admission and conversion webhooks are called (HTTPS, caBundle, services).</summary>
    public WebhookClient Webhooks { get; }

    /// <summary>Every served resource, built-in and custom; changes at run time.</summary>
    public ResourceCatalog Catalog { get; }

    /// <summary>The resources of the current catalog.</summary>
    public IReadOnlyList<ApiResource> Resources => Catalog.Current.Resources;

    public WatchCache Cache { get; }

    public IStore Store { get; }

    public ApiServerOptions Options { get; }

    public TimeProvider TimeProvider { get; }

    public RegistryContext Context { get; }

    public ApiResource? Namespaces { get; }

    public bool HasGroupVersion(string group, string version) => Catalog.Current.HasGroupVersion(group, version);

    public ApiResource? Find(string group, string version, string resource) => Catalog.Current.Find(group, version, resource)?.Resource;

    public ApiResource? FindByGroupResource(string groupResource) => Catalog.Current.FindByGroupResource(groupResource)?.Resource;

    /// <summary>The definition serving a resource (404 when a custom resource went away meanwhile).</summary>
    public ResourceDefinition DefinitionOf(ApiResource resource) => Catalog.Current.Of(resource);

    public ResourceStrategy StrategyFor(ApiResource resource) => DefinitionOf(resource).Strategy;

    public CachedObject? Get(ApiResource resource, string? @namespace, string name) =>
        Cache.For(resource).Get(WatchCache.Key(resource, @namespace, name));

    /// <summary>The object a request names, or its refusal: 404, or 500 when the stored value cannot be read.</summary>
    public CachedObject Existing(ApiResource resource, string? @namespace, string name) => ExistingAt(resource, WatchCache.Key(resource, @namespace, name), name);

    private CachedObject ExistingAt(ApiResource resource, string key, string name)
    {
        var cache = Cache.For(resource);
        return cache.Get(key)
            ?? (cache.CorruptAt(key) is { } corrupt ? throw StatusError.CorruptObject(corrupt) : throw StatusError.NotFound(resource.Resource, resource.Group, name));
    }

    public string Now() => TimeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Creates an object. A client's write carries an <paramref name="admission"/> context and passes the admission
    /// chain; the server's own writes (bootstrap, upkeep) do not.
    /// </summary>
    public Task<CachedObject> CreateAsync(ApiResource resource, string? @namespace, JsonObject obj, bool dryRun, CancellationToken cancellationToken) =>
        CreateAsync(resource, @namespace, obj, dryRun, null, null, cancellationToken);

    public async Task<CachedObject> CreateAsync(ApiResource resource, string? @namespace, JsonObject obj, bool dryRun, AdmissionContext? admission, string? subresource, CancellationToken cancellationToken)
    {
        CheckKind(resource, obj);
        var meta = obj["metadata"] as JsonObject;
        if (meta is null)
        {
            obj["metadata"] = meta = [];
        }

        if (resource.Namespaced)
        {
            var bodyNamespace = (string?)meta["namespace"];
            if (!string.IsNullOrEmpty(bodyNamespace) && @namespace is not null && bodyNamespace != @namespace)
            {
                throw StatusError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            @namespace ??= bodyNamespace;
            if (string.IsNullOrEmpty(@namespace))
            {
                throw StatusError.BadRequest("the server could not find the requested resource");
            }

            meta["namespace"] = @namespace;
        }
        else
        {
            meta.Remove("namespace");
            @namespace = null;
        }

        var generateName = (string?)meta["generateName"];
        var generated = string.IsNullOrEmpty((string?)meta["name"]) && !string.IsNullOrEmpty(generateName);
        var definition = DefinitionOf(resource);
        var strategy = definition.Strategy;
        for (var attempt = 0; ; attempt++)
        {
            if (generated)
            {
                meta["name"] = generateName + RandomSuffix();
            }

            var name = (string?)meta["name"];
            if (string.IsNullOrEmpty(name))
            {
                throw StatusError.Invalid(resource.Kind, resource.Group, string.Empty, [ResourceStrategy.Required("metadata.name", "name or generateName is required")]);
            }

            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Now();
            meta.Remove("resourceVersion");
            meta.Remove("deletionTimestamp");
            meta.Remove("deletionGracePeriodSeconds");
            meta.Remove("selfLink");
            DropEmptyCollections(meta);
            if (strategy.TracksGeneration)
            {
                meta["generation"] = 1;
            }
            else
            {
                meta.Remove("generation");
            }

            strategy.ApplySchemeDefaults(obj);
            AdmissionAttributes? attributes = null;
            if (admission is not null)
            {
                attributes = Attributes(AdmissionOperation.Create, resource, subresource, @namespace, name, obj, null, dryRun, admission);
                await Admission.MutateAsync(attributes, cancellationToken).ConfigureAwait(false);
                obj = KeepIdentity(attributes.Object ?? obj, obj);
                meta = (JsonObject)obj["metadata"]!;
            }

            strategy.PrepareForCreate(obj, admission?.User);
            var causes = new List<StatusCause>();
            strategy.Validate(obj, null, causes);
            if (causes.Count > 0)
            {
                throw StatusError.Invalid(resource.Kind, resource.Group, name, causes);
            }

            if (attributes is not null)
            {
                attributes.Object = obj;
                await Admission.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
            }

            var key = WatchCache.Key(resource, @namespace, name);
            if (dryRun)
            {
                if (Cache.For(resource).Get(key) is not null)
                {
                    throw StatusError.AlreadyExists(resource.Resource, resource.Group, name);
                }

                return CachedObject.FromNode(key, obj, 0);
            }

            try
            {
                var stored = await Store.CreateAsync(key, Serialize(await definition.ToStorageAsync(obj, cancellationToken).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
                await RecordAsync(resource, @namespace, name, key, HistoryChange.Added, stored, obj, null, admission).ConfigureAwait(false);
                return await VisibleAsync(resource, key, stored.ModRevision, cancellationToken).ConfigureAwait(false);
            }
            catch (KeyExistsException) when (generated && attempt < MaxRetries)
            {
            }
            catch (KeyExistsException)
            {
                throw StatusError.AlreadyExists(resource.Resource, resource.Group, name);
            }
        }
    }

    /// <summary>
    /// Read-modify-write of one object. <paramref name="mutate"/> builds the desired object from a fresh copy of the
    /// current one; a resourceVersion it carries is a precondition. Without one, lost races are retried.
    /// </summary>
    public Task<CachedObject> UpdateAsync(ApiResource resource, string? @namespace, string name, Func<CachedObject, JsonObject> mutate, string? subresource, bool dryRun, CancellationToken cancellationToken) =>
        UpdateAsync(resource, @namespace, name, mutate, subresource, dryRun, null, cancellationToken);

    public Task<CachedObject> UpdateAsync(
        ApiResource resource,
        string? @namespace,
        string name,
        Func<CachedObject, JsonObject> mutate,
        string? subresource,
        bool dryRun,
        AdmissionContext? admission,
        CancellationToken cancellationToken) =>
        UpdateAsync(resource, @namespace, name, mutate, subresource, dryRun, admission, null, cancellationToken);

    /// <param name="fieldManager">The manager an update (not a patch or apply) records its changes under, if any.</param>
    public async Task<CachedObject> UpdateAsync(
        ApiResource resource,
        string? @namespace,
        string name,
        Func<CachedObject, JsonObject> mutate,
        string? subresource,
        bool dryRun,
        AdmissionContext? admission,
        string? fieldManager,
        CancellationToken cancellationToken)
    {
        var key = WatchCache.Key(resource, @namespace, name);
        var definition = DefinitionOf(resource);
        var strategy = definition.Strategy;
        // A binding writes the pod as upstream's does, straight through to storage: its handler checks the two fields
        // it sets, and the pod is not defaulted, validated or given a new generation as an update of its spec would be.
        var binding = subresource == "binding";
        for (var attempt = 0; ; attempt++)
        {
            var current = ExistingAt(resource, key, name);
            var presented = await definition.PresentAsync(current, cancellationToken).ConfigureAwait(false);
            var old = presented.ToNode();
            if (!binding)
            {
                // Stored objects are read with today's defaults, so objects written before a default existed stay updatable.
                strategy.ApplySchemeDefaults(old);
            }

            var desired = mutate(presented);
            CheckKind(resource, desired);
            var meta = desired["metadata"] as JsonObject;
            if (meta is null)
            {
                desired["metadata"] = meta = [];
            }

            var bodyName = (string?)meta["name"];
            if (!string.IsNullOrEmpty(bodyName) && bodyName != name)
            {
                throw StatusError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            }

            if (resource.Namespaced && (string?)meta["namespace"] is { Length: > 0 } bodyNamespace && bodyNamespace != @namespace)
            {
                throw StatusError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            var precondition = (string?)meta["resourceVersion"];
            if (!string.IsNullOrEmpty(precondition) && precondition != current.Revision.ToString(CultureInfo.InvariantCulture))
            {
                throw StatusError.Conflict(resource.Resource, resource.Group, name);
            }

            var ownSubresource = subresource is not null ? strategy.PrepareForSubresourceUpdate(subresource, desired, old) : null;
            var updated = subresource switch
            {
                "status" => strategy.PrepareForStatusUpdate(desired, old),
                "finalize" => Finalize(desired, old),
                _ => ownSubresource ?? desired,
            };
            var updatedMeta = (JsonObject)updated["metadata"]!;
            var oldMeta = (JsonObject)old["metadata"]!;
            updatedMeta["name"] = name;
            if (resource.Namespaced)
            {
                updatedMeta["namespace"] = @namespace;
            }

            foreach (var field in KeptOnUpdate)
            {
                if (oldMeta[field] is { } value)
                {
                    updatedMeta[field] = value.DeepClone();
                }
                else
                {
                    updatedMeta.Remove(field);
                }
            }

            updatedMeta.Remove("selfLink");
            if (subresource is null)
            {
                WriteManagedFields.Carry(updatedMeta, oldMeta);
            }

            DropEmptyCollections(updatedMeta);
            if (subresource is not ("status" or "finalize" or "binding") && ownSubresource is null)
            {
                strategy.ApplySchemeDefaults(updated);
            }

            if (subresource is null && fieldManager is not null)
            {
                updated = WriteManagedFields.Record(updated, old, fieldManager, resource.ApiVersion, definition.Schema, TimeProvider);
                updatedMeta = (JsonObject)updated["metadata"]!;
            }

            AdmissionAttributes? attributes = null;
            if (admission is not null)
            {
                attributes = Attributes(AdmissionOperation.Update, resource, subresource, @namespace, name, updated, old.DeepClone().AsObject(), dryRun, admission);
                await Admission.MutateAsync(attributes, cancellationToken).ConfigureAwait(false);
                updated = KeepIdentity(attributes.Object ?? updated, updated);
                updatedMeta = (JsonObject)updated["metadata"]!;
            }

            if (subresource is not ("status" or "finalize" or "binding") && ownSubresource is null)
            {
                strategy.PrepareForUpdate(updated, old);
            }

            if (!binding && strategy.TracksGeneration && !JsonNode.DeepEquals(old["spec"], updated["spec"]))
            {
                updatedMeta["generation"] = (JsonNumber.Int64(oldMeta["generation"]) ?? 0) + 1;
            }

            if (!binding)
            {
                var causes = new List<StatusCause>();
                if (subresource == "status")
                {
                    strategy.ValidateStatusUpdate(updated, old, causes);
                }
                else
                {
                    strategy.Validate(updated, old, causes);
                }

                if (causes.Count > 0)
                {
                    throw StatusError.Invalid(resource.Kind, resource.Group, name, causes);
                }
            }

            if (attributes is not null)
            {
                attributes.Object = updated;
                await Admission.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
            }

            updatedMeta.Remove("resourceVersion");
            oldMeta.Remove("resourceVersion");
            if (JsonNode.DeepEquals(updated, old))
            {
                return current;
            }

            if (dryRun)
            {
                return CachedObject.FromNode(key, updated, current.Revision);
            }

            try
            {
                if (updatedMeta["deletionTimestamp"] is not null && FinalizerCount(updated) == 0 && !IsHeldBack(resource, updated))
                {
                    var deleted = await Store.DeleteAsync(key, current.Revision, cancellationToken).ConfigureAwait(false);
                    await RecordAsync(resource, @namespace, name, key, HistoryChange.Deleted, deleted, null, null, admission).ConfigureAwait(false);
                    await Cache.WaitForRevisionAsync(deleted.ModRevision, cancellationToken).ConfigureAwait(false);
                    return CachedObject.FromNode(key, updated, deleted.ModRevision);
                }

                var stored = await Store.UpdateAsync(key, Serialize(await definition.ToStorageAsync(updated, cancellationToken).ConfigureAwait(false)), current.Revision, cancellationToken).ConfigureAwait(false);
                await RecordAsync(resource, @namespace, name, key, HistoryChange.Modified, stored, updated, old, admission).ConfigureAwait(false);
                return await VisibleAsync(resource, key, stored.ModRevision, cancellationToken).ConfigureAwait(false);
            }
            catch (ConflictException conflict) when (string.IsNullOrEmpty(precondition) && attempt < MaxRetries)
            {
                await Cache.WaitForRevisionAsync(conflict.Current?.ModRevision ?? 0, cancellationToken).ConfigureAwait(false);
            }
            catch (ConflictException)
            {
                throw StatusError.Conflict(resource.Resource, resource.Group, name);
            }
            catch (KeyNotFoundStorageException)
            {
                throw StatusError.NotFound(resource.Resource, resource.Group, name);
            }
        }
    }

    /// <summary>Deletes an object, or marks it with a deletionTimestamp while finalizers or a grace period hold it.</summary>
    public Task<(CachedObject Object, bool Deleted)> DeleteAsync(ApiResource resource, string? @namespace, string name, DeleteOptions options, CancellationToken cancellationToken) =>
        DeleteAsync(resource, @namespace, name, options, null, null, cancellationToken);

    public async Task<(CachedObject Object, bool Deleted)> DeleteAsync(ApiResource resource, string? @namespace, string name, DeleteOptions options, AdmissionContext? admission, string? subresource, CancellationToken cancellationToken)
    {
        var key = WatchCache.Key(resource, @namespace, name);
        for (var attempt = 0; ; attempt++)
        {
            var current = ExistingAt(resource, key, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
            {
                throw StatusError.Conflict(resource.Resource, resource.Group, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            }

            var currentVersion = current.Revision.ToString(CultureInfo.InvariantCulture);
            if (options.PreconditionResourceVersion is { Length: > 0 } rv && rv != currentVersion)
            {
                throw StatusError.Conflict(resource.Resource, resource.Group, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {currentVersion}");
            }

            var node = current.ToNode();
            if (admission is not null)
            {
                var attributes = Attributes(AdmissionOperation.Delete, resource, subresource, @namespace, name, null, node.DeepClone().AsObject(), options.DryRun, admission);
                await Admission.MutateAsync(attributes, cancellationToken).ConfigureAwait(false);
                await Admission.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
            }

            var meta = (JsonObject)node["metadata"]!;
            var finalizers = (meta["finalizers"] as JsonArray)?.Select(f => (string?)f).OfType<string>().ToList() ?? [];
            if (meta["deletionTimestamp"] is null)
            {
                DefinitionOf(resource).Strategy.PrepareForDelete(node, finalizers);
            }

            var policy = options.PropagationPolicy;
            if (policy == "Foreground" && !finalizers.Contains("foregroundDeletion"))
            {
                finalizers.Add("foregroundDeletion");
            }
            else if (policy == "Orphan" && !finalizers.Contains("orphan"))
            {
                finalizers.Add("orphan");
            }

            var alreadyDeleting = meta["deletionTimestamp"] is not null;
            // A pod already terminating keeps its grace period unless the new request shortens it to zero.
            var graceSeconds = alreadyDeleting && options.GracePeriodSeconds != 0 && resource.GroupResource == "pods" ? (JsonNumber.Int64(meta["deletionGracePeriodSeconds"]) ?? 0) : GracePeriod(resource, node, options);
            var isNamespace = resource.GroupResource == "namespaces";
            var hold = finalizers.Count > 0 || graceSeconds > 0 || (isNamespace && ((node["spec"]?["finalizers"] as JsonArray)?.Count ?? 0) > 0);
            if (options.DryRun)
            {
                return (current, !hold);
            }

            try
            {
                if (hold)
                {
                    var unchanged = finalizers.Count == ((meta["finalizers"] as JsonArray)?.Count ?? 0);
                    if (alreadyDeleting && unchanged)
                    {
                        return (current, false);
                    }

                    if (!alreadyDeleting)
                    {
                        meta["deletionTimestamp"] = graceSeconds > 0
                            ? TimeProvider.GetUtcNow().UtcDateTime.AddSeconds(graceSeconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
                            : Now();
                        meta["deletionGracePeriodSeconds"] = graceSeconds;
                    }

                    if (finalizers.Count > 0)
                    {
                        meta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)JsonValue.Create(f)!).ToArray());
                    }

                    if (isNamespace)
                    {
                        Ensure(node, "status")["phase"] = "Terminating";
                    }

                    meta.Remove("resourceVersion");
                    var stored = await Store.UpdateAsync(key, Serialize(node), current.Revision, cancellationToken).ConfigureAwait(false);
                    await RecordAsync(resource, @namespace, name, key, HistoryChange.Modified, stored, null, null, admission).ConfigureAwait(false);
                    return (await VisibleAsync(resource, key, stored.ModRevision, cancellationToken).ConfigureAwait(false), false);
                }

                var deleted = await Store.DeleteAsync(key, current.Revision, cancellationToken).ConfigureAwait(false);
                await RecordAsync(resource, @namespace, name, key, HistoryChange.Deleted, deleted, null, null, admission).ConfigureAwait(false);
                await Cache.WaitForRevisionAsync(deleted.ModRevision, cancellationToken).ConfigureAwait(false);
                return (current, true);
            }
            catch (ConflictException) when (attempt < MaxRetries)
            {
                await Cache.WaitForRevisionAsync(await Store.GetCurrentRevisionAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            catch (ConflictException)
            {
                throw StatusError.Conflict(resource.Resource, resource.Group, name);
            }
            catch (KeyNotFoundStorageException)
            {
                throw StatusError.NotFound(resource.Resource, resource.Group, name);
            }
        }
    }

    /// <summary>
    /// Deletes an object whose stored value cannot be read (ignoreStoreReadErrorWithClusterBreakingPotential): nothing
    /// that would need its content runs, so no admission, finalizers, grace period or garbage collection of dependents.
    /// Refused for an object the server can read, which must go the normal way.
    /// </summary>
    public async Task UnsafeDeleteAsync(ApiResource resource, string? @namespace, string name, bool dryRun, CancellationToken cancellationToken)
    {
        var key = WatchCache.Key(resource, @namespace, name);
        var corrupt = Cache.For(resource).CorruptAt(key);
        if (corrupt is null)
        {
            throw StatusError.Invalid(resource.Resource, resource.Group, name,
                [new StatusCause("FieldValueInvalid", "Invalid value: true: is exclusively used to delete corrupt object(s), try again by removing this option", "ignoreStoreReadErrorWithClusterBreakingPotential")]);
        }

        if (dryRun)
        {
            return;
        }

        try
        {
            // Pinned to the unreadable value: a write that replaced it meanwhile is not deleted blind.
            var deleted = await Store.DeleteAsync(key, corrupt.Revision, cancellationToken).ConfigureAwait(false);
            await Cache.WaitForRevisionAsync(deleted.ModRevision, cancellationToken).ConfigureAwait(false);
        }
        catch (ConflictException)
        {
            throw StatusError.Conflict(resource.Resource, resource.Group, name);
        }
        catch (KeyNotFoundStorageException)
        {
            throw StatusError.NotFound(resource.Resource, resource.Group, name);
        }
    }

    /// <summary>Pods bound to a node get a grace period the node agent honours; everything else goes at once.</summary>
    private static long GracePeriod(ApiResource resource, JsonObject node, DeleteOptions options)
    {
        if (resource.GroupResource != "pods")
        {
            return 0;
        }

        var spec = node["spec"] as JsonObject;
        if (string.IsNullOrEmpty((string?)spec?["nodeName"]))
        {
            return 0;
        }

        var phase = (string?)node["status"]?["phase"];
        if (phase is "Succeeded" or "Failed")
        {
            return 0;
        }

        var grace = options.GracePeriodSeconds ?? JsonNumber.Int64(spec?["terminationGracePeriodSeconds"]) ?? 30;
        return Math.Max(grace, 0);
    }

    /// <summary>A pod within its grace period, or a namespace whose spec finalizers have not run.</summary>
    private static bool IsHeldBack(ApiResource resource, JsonObject obj) => resource.GroupResource switch
    {
        "pods" => (JsonNumber.Int64(obj["metadata"]?["deletionGracePeriodSeconds"]) ?? 0) > 0,
        "namespaces" => ((obj["spec"]?["finalizers"] as JsonArray)?.Count ?? 0) > 0,
        _ => false,
    };

    /// <summary>The finalize subresource changes only spec.finalizers.</summary>
    private static JsonObject Finalize(JsonObject desired, JsonObject old)
    {
        var result = old.DeepClone().AsObject();
        Ensure(result, "spec")["finalizers"] = desired["spec"]?["finalizers"]?.DeepClone() ?? new JsonArray();
        return result;
    }

    private static int FinalizerCount(JsonObject obj) => (obj["metadata"]?["finalizers"] as JsonArray)?.Count ?? 0;

    private async Task<CachedObject> VisibleAsync(ApiResource resource, string key, long revision, CancellationToken cancellationToken)
    {
        await Cache.WaitForRevisionAsync(revision, cancellationToken).ConfigureAwait(false);
        var visible = Cache.For(resource).Get(key);
        if (visible is not null && visible.Revision == revision)
        {
            return visible;
        }

        // A later write already replaced it; answer with what this write stored.
        var stored = await Store.GetAsync(key, revision, cancellationToken).ConfigureAwait(false);
        return stored is null ? visible! : CachedObject.FromStored(key, stored.Value.Span, stored.ModRevision);
    }

    /// <summary>Empty lists and maps in metadata are stored as absent, as upstream's omitempty fields are.</summary>
    private static void DropEmptyCollections(JsonObject meta)
    {
        foreach (var field in OmittedWhenEmpty)
        {
            if (meta[field] is JsonArray { Count: 0 } or JsonObject { Count: 0 })
            {
                meta.Remove(field);
            }
        }
    }

    private static void CheckKind(ApiResource resource, JsonObject obj)
    {
        CheckShape(obj);
        var apiVersion = (string?)obj["apiVersion"];
        var kind = (string?)obj["kind"];
        if (string.IsNullOrEmpty(kind))
        {
            obj["kind"] = resource.Kind;
        }
        else if (kind != resource.Kind)
        {
            throw StatusError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({resource.Kind})");
        }

        if (string.IsNullOrEmpty(apiVersion))
        {
            obj["apiVersion"] = resource.ApiVersion;
        }
        else if (apiVersion != resource.ApiVersion)
        {
            throw StatusError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({resource.ApiVersion})");
        }
    }

    /// <summary>Type checks of the fields the registry reads, answered like upstream's decoder (400, not a crash).</summary>
    private static void CheckShape(JsonObject obj)
    {
        static void String(JsonNode? node, string field)
        {
            if (node is not null && node.GetValueKind() != System.Text.Json.JsonValueKind.String)
            {
                throw StatusError.BadRequest($"json: cannot unmarshal {Describe(node)} into Go struct field {field} of type string");
            }
        }

        static string Describe(JsonNode node) => node.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Number => "number",
            System.Text.Json.JsonValueKind.Array => "array",
            System.Text.Json.JsonValueKind.Object => "object",
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "bool",
            _ => "value",
        };

        String(obj["apiVersion"], ".apiVersion");
        String(obj["kind"], ".kind");
        if (obj["metadata"] is null)
        {
            return;
        }

        if (obj["metadata"] is not JsonObject meta)
        {
            throw StatusError.BadRequest($"json: cannot unmarshal {Describe(obj["metadata"]!)} into Go struct field .metadata of type v1.ObjectMeta");
        }

        foreach (var field in new[] { "name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp" })
        {
            String(meta[field], "ObjectMeta.metadata." + field);
        }

        foreach (var map in new[] { "labels", "annotations" })
        {
            if (meta[map] is null)
            {
                continue;
            }

            if (meta[map] is not JsonObject values)
            {
                throw StatusError.BadRequest($"json: cannot unmarshal {Describe(meta[map]!)} into Go struct field ObjectMeta.metadata.{map} of type map[string]string");
            }

            foreach (var (_, value) in values)
            {
                String(value, $"ObjectMeta.metadata.{map}");
            }
        }

        if (meta["finalizers"] is { } finalizers)
        {
            if (finalizers is not JsonArray list)
            {
                throw StatusError.BadRequest($"json: cannot unmarshal {Describe(finalizers)} into Go struct field ObjectMeta.metadata.finalizers of type []string");
            }

            foreach (var item in list)
            {
                String(item, "ObjectMeta.metadata.finalizers");
            }
        }
    }

    /// <summary>Every revision of every object for a retention window; null when the server keeps none.</summary>
    internal ObjectHistory? History { get; set; }

    private Task RecordAsync(ApiResource resource, string? @namespace, string name, string key, string type, KeyValue stored, JsonObject? after, JsonObject? before, AdmissionContext? admission) =>
        History?.RecordAsync(resource, @namespace, name, key, type, stored, after, before, admission?.User) ?? Task.CompletedTask;

    public static byte[] Serialize(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject meta && meta["resourceVersion"] is not null)
        {
            var copy = obj.DeepClone().AsObject();
            ((JsonObject)copy["metadata"]!).Remove("resourceVersion");
            obj = copy;
        }

        return JsonSerializer.SerializeToUtf8Bytes(obj, StoredJsonContext.Default.JsonObject);
    }

    private static JsonObject Ensure(JsonObject parent, string field)
    {
        if (parent[field] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[field] = created;
        return created;
    }

    private static string RandomSuffix()
    {
        Span<char> chars = stackalloc char[5];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = NameAlphabet[RandomNumberGenerator.GetInt32(NameAlphabet.Length)];
        }

        return new string(chars);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background registry work failed")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Namespace {Name} emptied and removed")]
    private static partial void LogNamespaceRemoved(ILogger logger, string name);
}
