using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.ManagedFields;
using Kubesharp.ApiMachinery.Patching;
using Kubesharp.ApiServer.Admission;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Printing;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Registry.Strategies;
using Kubesharp.Storage;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>The REST verbs on resources and their subresources, over the registry and the watch cache.</summary>
internal sealed partial class ResourceEndpoint(ResourceRegistry registry)
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public Task HandleAsync(HttpContext context, ResourceRequest request)
    {
        var method = context.Request.Method;
        var resource = request.Resource;
        if (request.Subresource is { } sub && !resource.Subresources.ContainsKey(sub))
        {
            throw StatusError.PathNotFound();
        }

        if (request.LegacyWatch)
        {
            // Only resources that can be watched have /watch/ routes upstream; the rest are not found.
            if (!resource.Verbs.Contains("watch") && !resource.Verbs.Contains("list"))
            {
                throw StatusError.PathNotFound();
            }

            if (!HttpMethods.IsGet(method))
            {
                throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
            }

            return WatchAsync(context, request);
        }

        if (!resource.Verbs.Contains("get") && !resource.Verbs.Contains("list"))
        {
            return VirtualResources.HandleAsync(context, request, registry);
        }

        if (request.Subresource is null)
        {
            var verb = (method, request.Name is null) switch
            {
                ("GET", true) => IsTrue(context.Request.Query["watch"]) ? "watch" : "list",
                ("GET", false) => "get",
                ("POST", _) => "create",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                ("DELETE", false) => "delete",
                ("DELETE", true) => "deletecollection",
                _ => method.ToLowerInvariant(),
            };
            if (!resource.Verbs.Contains(verb) && !(verb == "watch" && resource.Verbs.Contains("list")))
            {
                throw new StatusError(405, "MethodNotAllowed", $"{verb} is not supported on resources of kind \"{StatusError.Qualified(resource.Resource, resource.Group)}\"", group: resource.Group, kind: resource.Resource);
            }
        }

        return (method, request.Name is null, request.Subresource) switch
        {
            ("GET", true, null) when IsTrue(context.Request.Query["watch"]) => WatchAsync(context, request),
            ("GET", true, null) => ListAsync(context, request),
            ("GET", false, "scale") => GetScaleAsync(context, request),
            ("GET", false, _) => GetAsync(context, request),
            ("POST", true, null) => CreateAsync(context, request),
            ("POST", false, "binding") => BindAsync(context, request),
            ("POST", false, "eviction") => EvictAsync(context, request),
            ("POST", false, "token") when resource.GroupResource == "serviceaccounts" && registry.TokenRequests is { } tokens => tokens.HandleAsync(context, request.Namespace!, request.Name!),
            ("PUT", false, "scale") => UpdateScaleAsync(context, request, patch: false),
            ("PUT", false, _) => UpdateAsync(context, request),
            ("PATCH", false, "scale") => UpdateScaleAsync(context, request, patch: true),
            ("PATCH", false, _) => PatchAsync(context, request),
            ("DELETE", false, null) => DeleteAsync(context, request),
            ("DELETE", true, null) => DeleteCollectionAsync(context, request),
            _ => throw StatusError.MethodNotAllowed($"the server does not allow this method on the requested resource"),
        };
    }

    /// <summary>Refuses a role or binding that would grant its writer more than it holds (see <see cref="RbacEscalationCheck"/>).</summary>
    private void CheckEscalation(HttpContext context, ResourceRequest request, JsonObject obj)
    {
        if (request.Resource.Group == RbacAuthorizer.Group && request.Subresource is null && registry.Authorizer is { } authorizer)
        {
            RbacEscalationCheck.Check(authorizer, context.Items[VirtualResources.UserItem] as Security.UserInfo, request.Resource, request.Namespace, obj);
        }
    }

    private async Task GetAsync(HttpContext context, ResourceRequest request)
    {
        var obj = registry.Existing(request.Resource, request.Namespace, request.Name!);
        await WriteObjectAsync(context, request.Resource, obj, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var resource = request.Resource;
        var filter = ObjectFilter.Parse(registry.DefinitionOf(resource).SelectableFields, request.Namespace, query["labelSelector"], query["fieldSelector"]);
        var limit = ParseLong(query["limit"], "limit") ?? 0;
        var continueToken = (string?)query["continue"];
        var resourceVersion = (string?)query["resourceVersion"];
        var match = (string?)query["resourceVersionMatch"];
        if (match is { Length: > 0 } && match is not ("Exact" or "NotOlderThan"))
        {
            throw StatusError.BadRequest($"resourceVersionMatch: Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\"");
        }

        if (match is { Length: > 0 } && string.IsNullOrEmpty(resourceVersion))
        {
            throw StatusError.Invalid("ListOptions", "meta.k8s.io", string.Empty, [new StatusCause("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided", "resourceVersionMatch")]);
        }

        var items = new List<CachedObject>();
        long listRevision;
        string? nextToken = null;
        long? remaining = null;
        var prefix = KeyPrefix(request);
        ThrowIfUnreadableUnder(resource, prefix);
        if (!string.IsNullOrEmpty(continueToken) || (match == "Exact" && resourceVersion is not (null or "0")))
        {
            string? startAfter = null;
            long atRevision;
            if (!string.IsNullOrEmpty(continueToken))
            {
                (startAfter, atRevision) = ContinueToken.Decode(continueToken);
            }
            else
            {
                atRevision = ParseRevision(resourceVersion!);
            }

            (listRevision, nextToken) = await ListFromStoreAsync(prefix, atRevision, startAfter, limit, filter, resource, items, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            if (resourceVersion is { Length: > 0 } and not "0")
            {
                await WaitForCacheAsync(ParseRevision(resourceVersion), context.RequestAborted).ConfigureAwait(false);
            }

            var (snapshot, revision) = registry.Cache.For(resource).SnapshotAt(registry.Cache.Revision, CacheNamespace(request));
            listRevision = revision;
            var count = 0L;
            var takeAll = limit <= 0;
            string? lastKey = null;
            foreach (var (key, obj) in snapshot)
            {
                if (!key.StartsWith(prefix, StringComparison.Ordinal) || !filter.Matches(obj))
                {
                    continue;
                }

                if (!takeAll && items.Count >= limit)
                {
                    count++;
                    continue;
                }

                items.Add(obj);
                lastKey = key;
            }

            if (!takeAll && count > 0 && lastKey is not null)
            {
                nextToken = ContinueToken.Encode(lastKey, revision);
                remaining = filter.IsEverything || (filter.Namespace is not null && query["labelSelector"].Count == 0 && query["fieldSelector"].Count == 0) ? count : null;
            }
        }

        await WriteListAsync(context, resource, items, listRevision, nextToken, remaining).ConfigureAwait(false);
    }

    /// <summary>The namespace whose objects alone a request reads from the cache; null for all of the resource's.</summary>
    private static string? CacheNamespace(ResourceRequest request) => request.Resource.Namespaced ? request.Namespace : null;

    private static string KeyPrefix(ResourceRequest request) =>
        request.Namespace is null || !request.Resource.Namespaced ? WatchCache.KeyPrefix(request.Resource) : WatchCache.KeyPrefix(request.Resource) + request.Namespace + "/";

    /// <summary>A list (or a watch's initial list) that would silently leave out objects it cannot read fails instead, naming them.</summary>
    private void ThrowIfUnreadableUnder(ApiResource resource, string prefix)
    {
        var cache = registry.Cache.For(resource);
        if (!cache.Corrupt.IsEmpty && cache.CorruptUnder(prefix).ToList() is { Count: > 0 } unreadable)
        {
            throw StatusError.StoreReadError(resource.Resource, resource.Group, prefix, unreadable);
        }
    }

    private async Task<(long Revision, string? Next)> ListFromStoreAsync(string prefix, long revision, string? startAfter, long limit, ObjectFilter filter, ApiResource resource, List<CachedObject> items, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var page = await registry.Store.ListAsync(prefix, new ListOptions(revision, limit > 0 ? (int)Math.Min(limit - items.Count, 10_000) : 0, startAfter), cancellationToken).ConfigureAwait(false);
                revision = page.Revision;
                foreach (var kv in page.Items)
                {
                    var obj = CachedObject.FromStored(kv.Key, kv.Value.Span, kv.ModRevision);
                    if (filter.Matches(obj))
                    {
                        items.Add(obj);
                    }

                    startAfter = kv.Key;
                }

                if (!page.More || page.Items.Count == 0)
                {
                    return (revision, null);
                }

                if (limit > 0 && items.Count >= limit)
                {
                    return (revision, ContinueToken.Encode(startAfter!, revision));
                }
            }
        }
        catch (CompactedException)
        {
            throw StatusError.Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
        }
    }

    private async Task WaitForCacheAsync(long revision, CancellationToken cancellationToken)
    {
        if (registry.Cache.Revision >= revision)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await registry.Cache.WaitForRevisionAsync(revision, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StatusError(504, "Timeout", $"Too large resource version: {revision}, current: {registry.Cache.Revision}", retryAfterSeconds: 1);
        }
    }

    private async Task CreateAsync(HttpContext context, ResourceRequest request)
    {
        var parsed = await ReadBodyAsync(context).ConfigureAwait(false);
        var body = parsed.Object;
        SchemaTypeCheck.CheckBody(request.Resource, parsed);
        ValidateFields(context, request.Resource, body, parsed: parsed.Parsed);
        CheckEscalation(context, request, body);
        var created = await registry.CreateAsync(request.Resource, request.Namespace, body, IsDryRun(context), Admission(context), null, context.RequestAborted).ConfigureAwait(false);
        await WriteObjectAsync(context, request.Resource, created, StatusCodes.Status201Created).ConfigureAwait(false);
    }

    private async Task UpdateAsync(HttpContext context, ResourceRequest request)
    {
        var parsed = await ReadBodyAsync(context).ConfigureAwait(false);
        var body = parsed.Object;
        SchemaTypeCheck.CheckBody(request.Resource, parsed);
        ValidateFields(context, request.Resource, body, parsed: parsed.Parsed);
        var manager = (string?)context.Request.Query["fieldManager"];
        FieldManager.ValidateManagerName(manager, apply: false);
        manager ??= FieldManager.ManagerFromUserAgent(context.Request.Headers.UserAgent);
        var updated = await registry.UpdateAsync(request.Resource, request.Namespace, request.Name!, _ =>
        {
            var desired = body.DeepClone().AsObject();
            CheckEscalation(context, request, desired);
            return desired;
        }, request.Subresource, IsDryRun(context), Admission(context), manager, context.RequestAborted).ConfigureAwait(false);
        await WriteObjectAsync(context, request.Resource, updated, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private async Task PatchAsync(HttpContext context, ResourceRequest request)
    {
        var patchType = MediaTypes.BaseType(context.Request.ContentType);
        var bytes = await RequestBody.ReadAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (patchType == MediaTypes.ApplyPatch)
        {
            await ApplyAsync(context, request, bytes).ConfigureAwait(false);
            return;
        }

        var patcher = Patches.For(patchType, registry.DefinitionOf(request.Resource), bytes, PatchLimitsFor(registry.Options));
        var mentionsVersion = bytes.AsSpan().IndexOf("resourceVersion"u8) >= 0;
        var warned = false;
        var updated = await registry.UpdateAsync(request.Resource, request.Namespace, request.Name!, current =>
        {
            var patched = patcher(current.ToNode());
            if (!mentionsVersion && patched["metadata"] is JsonObject patchedMeta)
            {
                // Only a resourceVersion the patch itself names is a precondition; otherwise lost races are retried.
                patchedMeta.Remove("resourceVersion");
            }

            SchemaTypeCheck.CheckPatched(request.Resource, patched);
            ValidateFields(context, request.Resource, patched, warn: !warned);
            warned = true;
            CheckEscalation(context, request, patched);
            return patched;
        }, request.Subresource, IsDryRun(context), Admission(context), context.RequestAborted).ConfigureAwait(false);
        await WriteObjectAsync(context, request.Resource, updated, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    /// <summary>Server-side apply: creates or merges the applied configuration, tracking field ownership.</summary>
    private async Task ApplyAsync(HttpContext context, ResourceRequest request, byte[] bytes)
    {
        var query = context.Request.Query;
        var manager = (string?)query["fieldManager"];
        if (string.IsNullOrEmpty(manager))
        {
            throw StatusError.Invalid("PatchOptions", "meta.k8s.io", string.Empty, [ResourceStrategy.Required("fieldManager", "is required for apply patch")]);
        }

        var force = IsTrue(query["force"]);
        var applied = YamlBody.ToJsonObject(bytes);
        SchemaTypeCheck.CheckBody(request.Resource, applied);
        ValidateFields(context, request.Resource, applied);
        var resource = request.Resource;
        var fieldManager = new FieldManager(registry.DefinitionOf(resource).Schema, registry.TimeProvider);
        var preconditioned = !string.IsNullOrEmpty((string?)applied["metadata"]?["resourceVersion"]);
        var dryRun = IsDryRun(context);
        if (request.Subresource is null && registry.Get(resource, request.Namespace, request.Name!) is null)
        {
            var fresh = fieldManager.Apply(null, applied, manager, resource.ApiVersion, force);
            var meta = (JsonObject)(fresh["metadata"] ??= new JsonObject());
            meta["name"] ??= request.Name;
            CheckEscalation(context, request, fresh);
            try
            {
                var created = await registry.CreateAsync(resource, request.Namespace, fresh, dryRun, Admission(context), null, context.RequestAborted).ConfigureAwait(false);
                await WriteObjectAsync(context, resource, created, StatusCodes.Status201Created).ConfigureAwait(false);
                return;
            }
            catch (StatusError error) when (error.Reason == "AlreadyExists")
            {
                // Created concurrently: apply to it below.
            }
        }

        var updated = await registry.UpdateAsync(resource, request.Namespace, request.Name!, current =>
        {
            var result = fieldManager.Apply(current.ToNode(), applied.DeepClone().AsObject(), manager, resource.ApiVersion, force, request.Subresource ?? string.Empty);
            if (!preconditioned && result["metadata"] is JsonObject meta)
            {
                meta.Remove("resourceVersion");
            }

            CheckEscalation(context, request, result);
            return result;
        }, request.Subresource, dryRun, Admission(context), context.RequestAborted).ConfigureAwait(false);
        await WriteObjectAsync(context, resource, updated, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    /// <summary>
    /// fieldValidation: Strict rejects unknown fields, Warn (the default) reports them in Warning headers; both drop them.
    /// They are looked for in <paramref name="parsed"/> (the document <paramref name="body"/> was read from) when given.
    /// </summary>
    private void ValidateFields(HttpContext context, ApiResource resource, JsonObject body, bool warn = true, JsonElement? parsed = null)
    {
        var mode = (string?)context.Request.Query["fieldValidation"] ?? "Warn";
        if (mode is not ("Strict" or "Warn" or "Ignore"))
        {
            throw StatusError.BadRequest($"fieldValidation: Unsupported value: \"{mode}\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
        }

        var unknown = registry.DefinitionOf(resource).UnknownFields(body, parsed, remove: mode != "Strict");
        if (unknown.Count == 0)
        {
            return;
        }

        if (mode == "Strict")
        {
            throw StatusError.BadRequest("strict decoding error: " + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
        }

        if (mode == "Warn" && warn)
        {
            foreach (var field in unknown)
            {
                context.Response.Headers.Append("Warning", WarningHeader.Format($"unknown field \"{field}\""));
            }
        }
    }

    private async Task DeleteAsync(HttpContext context, ResourceRequest request)
    {
        var options = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
        if (options.IgnoreStoreReadError)
        {
            await UnsafeDeleteAsync(context, request, options).ConfigureAwait(false);
            return;
        }

        var (obj, _) = await registry.DeleteAsync(request.Resource, request.Namespace, request.Name!, options, Admission(context), null, context.RequestAborted).ConfigureAwait(false);
        await WriteObjectAsync(context, request.Resource, obj, StatusCodes.Status200OK).ConfigureAwait(false);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceRequest request)
    {
        var options = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
        var query = context.Request.Query;
        var filter = ObjectFilter.Parse(registry.DefinitionOf(request.Resource).SelectableFields, request.Namespace, query["labelSelector"], query["fieldSelector"]);
        var deleted = new List<CachedObject>();
        foreach (var obj in registry.Cache.For(request.Resource).Snapshot.Values.Where(filter.Matches).ToList())
        {
            try
            {
                var (result, _) = await registry.DeleteAsync(request.Resource, obj.Namespace.Length == 0 ? null : obj.Namespace, obj.Name, options, Admission(context), null, context.RequestAborted).ConfigureAwait(false);
                deleted.Add(result);
            }
            catch (StatusError error) when (error.Reason == "NotFound")
            {
            }
        }

        await WriteListAsync(context, request.Resource, deleted, registry.Cache.Revision, null, null).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes an unreadable object. Beyond delete, the caller needs the verb unsafe-delete-ignore-read-errors on the
    /// resource, as upstream asks: the deletion skips whatever keeps the cluster consistent.
    /// </summary>
    private async Task UnsafeDeleteAsync(HttpContext context, ResourceRequest request, DeleteOptions options)
    {
        var resource = request.Resource;
        if (context.Items[VirtualResources.UserItem] is Security.UserInfo user && registry.Authorizer is { } authorizer)
        {
            var unsafeDelete = new FlowControl.RequestInfo(true, "unsafe-delete-ignore-read-errors", context.Request.Path.Value ?? string.Empty,
                resource.Group, resource.Resource, string.Empty, request.Namespace ?? string.Empty, request.Name!);
            var decision = authorizer.Authorize(user, unsafeDelete);
            if (!decision.Allowed)
            {
                throw RequestAuthorizer.Forbidden(user, unsafeDelete, decision.Reason);
            }
        }

        await registry.UnsafeDeleteAsync(resource, request.Namespace, request.Name!, options.DryRun, context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = request.Name, ["group"] = resource.Group, ["kind"] = resource.Resource },
        }).ConfigureAwait(false);
    }

    private async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        JsonObject? body = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var bytes = await RequestBody.ReadAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
            if (bytes.Length > 0)
            {
                body = RequestBody.ParseObject(bytes);
            }
        }

        var policy = (string?)body?["propagationPolicy"] ?? (string?)query["propagationPolicy"];
        var orphan = body?["orphanDependents"] is JsonValue o && o.TryGetValue<bool>(out var b) ? b : IsTrue(query["orphanDependents"]) ? true : (bool?)null;
        if (policy is null && orphan is { } orphanDependents)
        {
            policy = orphanDependents ? "Orphan" : "Background";
        }

        if (policy is not (null or "Foreground" or "Background" or "Orphan"))
        {
            throw StatusError.Invalid("DeleteOptions", string.Empty, string.Empty, [ResourceStrategy.Unsupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])]);
        }

        var grace = JsonNumber.Int64(body?["gracePeriodSeconds"]) ?? ParseLong(query["gracePeriodSeconds"], "gracePeriodSeconds");
        var dryRun = IsDryRun(context) || (body?["dryRun"] is JsonArray dr && dr.Any(x => (string?)x == "All"));
        return new DeleteOptions
        {
            PropagationPolicy = policy,
            GracePeriodSeconds = grace,
            PreconditionUid = (string?)body?["preconditions"]?["uid"],
            PreconditionResourceVersion = (string?)body?["preconditions"]?["resourceVersion"],
            DryRun = dryRun,
            IgnoreStoreReadError = body?["ignoreStoreReadErrorWithClusterBreakingPotential"] is JsonValue ignore && ignore.TryGetValue<bool>(out var ignoring)
                ? ignoring
                : IsTrue(query["ignoreStoreReadErrorWithClusterBreakingPotential"]),
        };
    }

    private async Task BindAsync(HttpContext context, ResourceRequest request)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        var node = (string?)body["target"]?["name"];
        var causes = new List<StatusCause>();
        if ((string?)body["target"]?["kind"] is { Length: > 0 } targetKind && targetKind != "Node")
        {
            causes.Add(ResourceStrategy.Unsupported("target.kind", targetKind, ["Node", "<empty>"]));
        }

        if (string.IsNullOrEmpty(node))
        {
            causes.Add(ResourceStrategy.Required("target.name"));
        }

        if (causes.Count > 0)
        {
            throw StatusError.Invalid("Binding", string.Empty, request.Name!, causes);
        }

        var bindingMeta = body["metadata"] as JsonObject;
        var uid = (string?)bindingMeta?["uid"];
        var resourceVersion = (string?)bindingMeta?["resourceVersion"];
        var now = registry.Now();
        await registry.AdmitAsync(AdmissionOperation.Create, request.Resource, "binding", request.Namespace, request.Name!, body, IsDryRun(context), Admission(context), context.RequestAborted).ConfigureAwait(false);
        await registry.UpdateAsync(request.Resource, request.Namespace, request.Name!, current =>
        {
            // The binding's uid and resourceVersion are preconditions on the pod, as for a delete.
            if (uid is { Length: > 0 } && uid != current.Uid)
            {
                throw StatusError.Conflict("pods", string.Empty, request.Name!, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            }

            var currentVersion = current.Revision.ToString(CultureInfo.InvariantCulture);
            if (resourceVersion is { Length: > 0 } && resourceVersion != currentVersion)
            {
                throw StatusError.Conflict("pods", string.Empty, request.Name!, $"Precondition failed: ResourceVersion in precondition: {resourceVersion}, ResourceVersion in object meta: {currentVersion}");
            }

            var pod = current.ToNode();
            var metadata = (JsonObject)pod["metadata"]!;
            metadata.Remove("resourceVersion");
            if (metadata["deletionTimestamp"] is not null)
            {
                throw StatusError.Conflict("pods", string.Empty, request.Name!, "pod is being deleted, cannot be assigned to a host");
            }

            var spec = (JsonObject)(pod["spec"] ??= new JsonObject());
            if ((string?)spec["nodeName"] is { Length: > 0 } existing)
            {
                throw StatusError.Conflict("pods/binding", string.Empty, request.Name!, $"pod {request.Name} is already assigned to node \"{existing}\"");
            }

            if (spec["schedulingGates"] is JsonArray { Count: > 0 })
            {
                throw StatusError.Conflict("pods/binding", string.Empty, request.Name!, $"pod {request.Name} has non-empty .spec.schedulingGates");
            }

            spec["nodeName"] = node;
            if (bindingMeta?["annotations"] is JsonObject { Count: > 0 } annotations)
            {
                var podAnnotations = (JsonObject)(metadata["annotations"] ??= new JsonObject());
                foreach (var (annotation, value) in annotations)
                {
                    podAnnotations[annotation] = value?.DeepClone();
                }
            }

            var status = (JsonObject)(pod["status"] ??= new JsonObject());
            var conditions = status["conditions"] as JsonArray ?? [];
            status["conditions"] = conditions;
            var scheduled = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "PodScheduled");
            if (scheduled is null)
            {
                scheduled = new JsonObject { ["type"] = "PodScheduled" };
                conditions.Add((JsonNode?)scheduled);
            }

            scheduled["status"] = "True";
            scheduled["lastProbeTime"] = null;
            scheduled["lastTransitionTime"] = now;
            scheduled.Remove("reason");
            scheduled.Remove("message");
            return pod;
        }, "binding", IsDryRun(context), context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status201Created, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["code"] = 201,
        }).ConfigureAwait(false);
    }

    private async Task GetScaleAsync(HttpContext context, ResourceRequest request)
    {
        var obj = registry.Existing(request.Resource, request.Namespace, request.Name!);
        var definition = registry.DefinitionOf(request.Resource);

        // The scale paths are the requested version's: read them from the object in that version.
        obj = await definition.PresentAsync(obj, context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, ToScale(definition, obj)).ConfigureAwait(false);
    }

    private async Task UpdateScaleAsync(HttpContext context, ResourceRequest request, bool patch)
    {
        var bytes = await RequestBody.ReadAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        Func<JsonObject, JsonObject> change;
        if (patch)
        {
            change = Patches.For(MediaTypes.BaseType(context.Request.ContentType), ScaleResource, bytes, PatchLimitsFor(registry.Options));
        }
        else
        {
            var body = MediaTypes.BaseType(context.Request.ContentType) is "application/yaml" ? YamlBody.ToJsonObject(bytes) : RequestBody.ParseObject(bytes);
            SchemaTypeCheck.CheckBody(ScaleResource, body);
            change = _ => body.DeepClone().AsObject();
        }

        var definition = registry.DefinitionOf(request.Resource);
        var specReplicas = (definition.Scale?.SpecReplicas ?? "spec.replicas").Split('.');
        var updated = await registry.UpdateAsync(request.Resource, request.Namespace, request.Name!, current =>
        {
            var scale = change(ToScale(definition, current));
            if (patch)
            {
                SchemaTypeCheck.CheckPatched(ScaleResource, scale);
            }

            var replicas = scale["spec"]?["replicas"];
            if (JsonNumber.Int64(replicas) is not { } count || count < 0)
            {
                throw StatusError.Invalid("Scale", "autoscaling", request.Name!, [ResourceStrategy.Invalid("spec.replicas", replicas?.ToJsonString() ?? "null", "must be greater than or equal to 0")]);
            }

            var node = current.ToNode();
            var parent = node;
            foreach (var part in specReplicas[..^1])
            {
                parent = parent[part] as JsonObject ?? (JsonObject)(parent[part] = new JsonObject());
            }

            parent[specReplicas[^1]] = count;
            var rv = (string?)scale["metadata"]?["resourceVersion"];
            ((JsonObject)node["metadata"]!)["resourceVersion"] = string.IsNullOrEmpty(rv) ? null : rv;
            return node;
        }, "scale", IsDryRun(context), Admission(context), context.RequestAborted).ConfigureAwait(false);
        updated = await definition.PresentAsync(updated, context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, ToScale(definition, updated)).ConfigureAwait(false);
    }

    private static readonly ApiResource ScaleResource = new()
    {
        Group = "autoscaling",
        Version = "v1",
        Resource = "scale",
        Kind = "Scale",
        ListKind = "ScaleList",
        SingularName = "scale",
        Namespaced = true,
        Verbs = [],
        DefinitionName = "io.k8s.api.autoscaling.v1.Scale",
    };

    private static JsonObject ToScale(ResourceDefinition definition, CachedObject obj)
    {
        var resource = definition.Resource;
        var root = obj.Root;
        var meta = obj.Metadata;
        var spec = root.TryGetProperty("spec", out var s) ? s : default;
        var status = root.TryGetProperty("status", out var st) ? st : default;
        long Number(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
        var selector = string.Empty;
        if (definition.Scale is { } paths)
        {
            // A custom resource names its own replica and selector fields.
            static JsonElement At(JsonElement e, string path)
            {
                foreach (var part in path.Split('.'))
                {
                    if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(part, out e))
                    {
                        return default;
                    }
                }

                return e;
            }

            var specReplicas = At(root, paths.SpecReplicas);
            var statusReplicas = At(root, paths.StatusReplicas);
            spec = JsonElement.Parse("{\"replicas\":" + (specReplicas.ValueKind == JsonValueKind.Number ? specReplicas.GetRawText() : "0") + "}");
            status = JsonElement.Parse("{\"replicas\":" + (statusReplicas.ValueKind == JsonValueKind.Number ? statusReplicas.GetRawText() : "0") + "}");
            selector = paths.LabelSelector is { } selectorPath && At(root, selectorPath) is { ValueKind: JsonValueKind.String } text ? text.GetString()! : string.Empty;
        }
        else if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("selector", out var sel))
        {
            var labels = resource.Kind == "ReplicationController" ? sel : sel.TryGetProperty("matchLabels", out var ml) ? ml : default;
            if (labels.ValueKind == JsonValueKind.Object)
            {
                selector = string.Join(",", labels.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}"));
            }
        }

        var scaleMeta = new JsonObject
        {
            ["name"] = obj.Name,
            ["uid"] = obj.Uid,
            ["resourceVersion"] = obj.Revision.ToString(CultureInfo.InvariantCulture),
            ["creationTimestamp"] = meta.TryGetProperty("creationTimestamp", out var ct) ? ct.GetString() : null,
        };
        if (obj.Namespace.Length > 0)
        {
            scaleMeta["namespace"] = obj.Namespace;
        }

        var statusNode = new JsonObject { ["replicas"] = Number(status, "replicas") };
        if (selector.Length > 0)
        {
            statusNode["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = scaleMeta,
            ["spec"] = new JsonObject { ["replicas"] = Number(spec, "replicas") },
            ["status"] = statusNode,
        };
    }

    /// <summary>A patch may produce no more, and copy no more, than a request may carry.</summary>
    private static PatchLimits PatchLimitsFor(ApiServerOptions options) =>
        new() { MaxCopyBytes = options.MaxRequestBodyBytes, MaxResultBytes = options.MaxRequestBodyBytes };

    private async Task<ParsedBody> ReadBodyAsync(HttpContext context) =>
        await RequestBody.ReadParsedAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);

    /// <summary>The requester and the response's warnings, for the admission chain.</summary>
    internal static AdmissionContext Admission(HttpContext context) => new(
        context.Items[VirtualResources.UserItem] as Security.UserInfo ?? new Security.UserInfo("system:anonymous", ["system:unauthenticated"]),
        message => context.Response.Headers.Append("Warning", WarningHeader.Format(message)),
        (key, value) => (context.Items[Audit.AuditEvent.ItemKey] as Audit.AuditEvent)?.AnnotateOnce(key, value));

    private static bool IsDryRun(HttpContext context)
    {
        var values = context.Request.Query["dryRun"];
        foreach (var value in values)
        {
            if (value != "All")
            {
                throw StatusError.Invalid("CreateOptions", "meta.k8s.io", string.Empty, [ResourceStrategy.Unsupported("dryRun", value ?? string.Empty, ["All"])]);
            }
        }

        return values.Count > 0;
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.Count > 0 && (value[0] is "true" or "1" or "True");

    private static long? ParseLong(Microsoft.Extensions.Primitives.StringValues value, string name)
    {
        if (value.Count == 0 || string.IsNullOrEmpty(value[0]))
        {
            return null;
        }

        return long.TryParse(value[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw StatusError.BadRequest($"invalid value for {name}: {value[0]}");
    }

    private static long ParseRevision(string resourceVersion) =>
        long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw StatusError.BadRequest($"Invalid value: \"{resourceVersion}\": strconv.ParseUint: parsing \"{resourceVersion}\": invalid syntax");

    private async Task WriteObjectAsync(HttpContext context, ApiResource resource, CachedObject obj, int statusCode)
    {
        obj = await registry.DefinitionOf(resource).PresentAsync(obj, context.RequestAborted).ConfigureAwait(false);
        switch (MediaTypes.Negotiate(context.Request))
        {
            case ResponseForm.Table:
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    TableRows.For(context, registry.DefinitionOf(resource)).WriteTable(writer, [obj], obj.Revision, withColumns: true);
                }

                await JsonResponses.WriteRawAsync(context, statusCode, buffer.WrittenMemory, MediaTypes.TableContentType).ConfigureAwait(false);
                break;
            case ResponseForm.PartialObjectMetadata:
                await JsonResponses.WriteAsync(context, statusCode, PartialMetadata(obj), "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io").ConfigureAwait(false);
                break;
            default:
                await JsonResponses.WriteRawAsync(context, statusCode, obj.Json).ConfigureAwait(false);
                break;
        }
    }

    private async Task WriteListAsync(HttpContext context, ApiResource resource, List<CachedObject> items, long revision, string? next, long? remaining)
    {
        items = await registry.DefinitionOf(resource).PresentAllAsync(items, context.RequestAborted).ConfigureAwait(false);

        var form = MediaTypes.Negotiate(context.Request);
        var table = form == ResponseForm.Table ? TableRows.For(context, registry.DefinitionOf(resource)) : null;
        await ListStreamWriter.WriteAsync(context, resource, items, form, revision, next, remaining, table).ConfigureAwait(false);
    }

    private static JsonObject PartialMetadata(CachedObject obj) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = JsonNode.Parse(obj.MetadataJson),
    };

    /// <summary>Opaque continue tokens: base64 of {"key":..., "rv":...}.</summary>
    private static class ContinueToken
    {
        public static string Encode(string key, long revision)
        {
            var json = new JsonObject { ["v"] = 1, ["rv"] = revision, ["start"] = key };
            return Convert.ToBase64String(Encoding.UTF8.GetBytes(json.ToJsonString()));
        }

        public static (string Key, long Revision) Decode(string token)
        {
            try
            {
                var node = JsonNode.Parse(Convert.FromBase64String(token)) as JsonObject;
                var key = (string?)node?["start"];
                var rv = JsonNumber.Int64(node?["rv"]);
                if (key is null || rv is null or <= 0)
                {
                    throw new FormatException();
                }

                return (key, rv.Value);
            }
            catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
            {
                throw StatusError.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            }
        }
    }
}
