using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>
/// Server-side apply and field ownership for one kind (upstream's field manager): applies configurations with
/// conflict detection and pruning of fields an applier stopped applying, and records which manager owns which
/// fields after ordinary writes (create, update, patch) in <c>metadata.managedFields</c>.
/// </summary>
public sealed class FieldManager
{
    /// <summary>Name of the entry older update managers are folded into once there are too many.</summary>
    public const string AncientChangesManager = "ancient-changes";

    /// <summary>Most Update entries kept per object.</summary>
    public const int MaxUpdateManagers = 10;

    /// <summary>Owner of the fields of an object that had no managed fields when it was first applied.</summary>
    public const string BeforeFirstApplyManager = "before-first-apply";

    /// <summary>The field manager name kubectl uses for server-side apply.</summary>
    public const string KubectlManager = "kubectl";

    /// <summary>kubectl's client-side apply annotation.</summary>
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    // Annotation values above this are dropped rather than kept stale (upstream keeps the total under 256 KiB).
    private const int MaxLastAppliedBytes = 256 * 1024 / 2;

    // Metadata nobody owns: identity and bookkeeping the server sets.
    private static readonly FieldSet Stripped = FieldSet.Of(
        [PathElement.Field("apiVersion")],
        [PathElement.Field("kind")],
        [PathElement.Field("metadata")],
        [PathElement.Field("metadata"), PathElement.Field("name")],
        [PathElement.Field("metadata"), PathElement.Field("namespace")],
        [PathElement.Field("metadata"), PathElement.Field("creationTimestamp")],
        [PathElement.Field("metadata"), PathElement.Field("selfLink")],
        [PathElement.Field("metadata"), PathElement.Field("uid")],
        [PathElement.Field("metadata"), PathElement.Field("clusterName")],
        [PathElement.Field("metadata"), PathElement.Field("generation")],
        [PathElement.Field("metadata"), PathElement.Field("managedFields")],
        [PathElement.Field("metadata"), PathElement.Field("resourceVersion")]);

    private readonly Shape _root;
    private readonly TypedWalker _walker;
    private readonly TimeProvider _time;

    /// <param name="schema">The kind's schema; null for kinds without one (fields are then deduced).</param>
    /// <param name="listMapKeyDefaults">
    /// Values assumed for list-map key fields an item omits (the API's defaults, e.g. <c>protocol: TCP</c> on
    /// ports), so an applied port without a protocol is the same item as the defaulted live one.
    /// </param>
    public FieldManager(TypeSchema? schema, TimeProvider? timeProvider = null, IReadOnlyDictionary<string, JsonNode?>? listMapKeyDefaults = null)
    {
        _root = new Shape(schema, null);
        _walker = new TypedWalker(listMapKeyDefaults ?? new Dictionary<string, JsonNode?> { ["protocol"] = "TCP" });
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Applies <paramref name="applied"/> for <paramref name="manager"/> to <paramref name="live"/> (null when the
    /// object does not exist yet) and returns the new object with its managedFields. Throws a 409 Conflict
    /// Status listing the conflicting fields unless <paramref name="force"/> takes them over.
    /// </summary>
    /// <param name="ignoredFields">Fields the endpoint resets (status on the main resource, spec on status).</param>
    public JsonObject Apply(JsonObject? live, JsonObject applied, string manager, string apiVersion, bool force,
        string subresource = "", FieldSet? ignoredFields = null)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentException.ThrowIfNullOrEmpty(manager);
        ignoredFields ??= FieldSet.Empty;
        if (applied["metadata"]?["managedFields"] is not null)
        {
            throw StatusException.BadRequest("metadata.managedFields must be nil");
        }

        var (result, conflicts) = ApplyCore(live, applied, manager, apiVersion, force, subresource, ignoredFields);
        if (conflicts.Count > 0 && manager == KubectlManager && AllowedByLastApplied(live, conflicts))
        {
            // kubectl moving from client-side to server-side apply: fields it set through the annotation are its own.
            (result, conflicts) = ApplyCore(live, applied, manager, apiVersion, true, subresource, ignoredFields);
        }

        if (conflicts.Count > 0)
        {
            throw ConflictError(conflicts);
        }

        if (manager == KubectlManager && LastApplied(live) is not null)
        {
            SetLastApplied(result!, applied);
        }

        return result!;
    }

    private (JsonObject? Result, List<ApplyConflict> Conflicts) ApplyCore(JsonObject? live, JsonObject applied, string manager,
        string apiVersion, bool force, string subresource, FieldSet ignoredFields)
    {
        var liveObject = live ?? [];
        var managers = Group(ManagedFieldsEntry.Read(live));
        if (live is not null && managers.Count == 0)
        {
            // Fields of an object nobody tracked yet belong to a placeholder, so a first apply cannot silently take them.
            var existing = FieldsOf(liveObject).RecursiveDifference(ignoredFields);
            if (!existing.IsEmpty)
            {
                var placeholder = new ManagedFieldsEntry
                {
                    Manager = BeforeFirstApplyManager,
                    Operation = ManagedFieldsEntry.UpdateOperation,
                    ApiVersion = apiVersion,
                    Time = _time.GetUtcNow(),
                    Fields = existing,
                };
                managers[placeholder.Identity] = placeholder;
            }
        }
        var identity = (manager, ManagedFieldsEntry.ApplyOperation, "", subresource);
        managers.TryGetValue(identity, out var previous);

        var config = (JsonObject)applied.DeepClone();
        var merged = (JsonObject)_walker.Merge(liveObject, true, config, _root)!;
        var appliedFields = _walker.ToFieldSet(config, _root);
        var appliedSet = appliedFields.Difference(Stripped).RecursiveDifference(ignoredFields);
        managers[identity] = new ManagedFieldsEntry
        {
            Manager = manager,
            Operation = ManagedFieldsEntry.ApplyOperation,
            ApiVersion = apiVersion,
            Subresource = subresource,
            Time = _time.GetUtcNow(),
            Fields = appliedSet,
        };

        if (previous is { Fields.IsEmpty: false })
        {
            // Identity fields are not stored as owned, but the configuration still holds them: keep them.
            merged = Prune(merged, managers, previous.Fields, appliedFields);
        }

        var comparison = _walker.Compare(liveObject, merged, _root).Excluding(ignoredFields);
        if (previous is not null && comparison.Added.IsEmpty && comparison.Modified.IsEmpty && comparison.Removed.IsEmpty
            && previous.Fields.SetEquals(appliedSet))
        {
            // A no-op apply leaves the object, including its managed fields, as it was.
            managers[identity] = managers[identity] with { Time = previous.Time, ApiVersion = previous.ApiVersion };
        }

        var conflicts = new List<ApplyConflict>();
        foreach (var (key, entry) in managers)
        {
            if (key == identity)
            {
                continue;
            }

            var conflicting = entry.Fields.Intersection(comparison.Modified.Union(comparison.Added));
            conflicts.AddRange(conflicting.Paths().Select(p => new ApplyConflict(entry, p.ToArray())));
        }

        if (conflicts.Count > 0 && !force)
        {
            return (null, conflicts);
        }

        Release(managers, identity, comparison.Modified.Union(comparison.Added), comparison.Removed);
        ManagedFieldsEntry.Write(merged, Cap(managers.Values));
        return (merged, []);
    }

    /// <summary>
    /// True when every conflicting field was set by kubectl's client-side apply (it is in the last-applied
    /// annotation with the value the object still has).
    /// </summary>
    private bool AllowedByLastApplied(JsonObject? live, List<ApplyConflict> conflicts)
    {
        if (LastApplied(live) is not { } text)
        {
            return false;
        }

        JsonObject lastApplied;
        try
        {
            if (JsonNode.Parse(text) is not JsonObject parsed)
            {
                return false;
            }

            lastApplied = parsed;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }

        var changed = _walker.Compare(lastApplied, live!, _root);
        var allowed = FieldsOf(lastApplied).Difference(changed.Modified).Difference(changed.Removed);
        return conflicts.All(c => allowed.Has(c.Path));
    }

    private static string? LastApplied(JsonObject? obj) =>
        JsonTree.AsString(obj?["metadata"]?["annotations"]?[LastAppliedAnnotation]) is { Length: > 0 } text ? text : null;

    /// <summary>Keeps kubectl's client-side annotation in step with what kubectl applied server-side.</summary>
    private static void SetLastApplied(JsonObject result, JsonObject applied)
    {
        var config = (JsonObject)applied.DeepClone();
        if (config["metadata"]?["annotations"] is JsonObject configAnnotations)
        {
            configAnnotations.Remove(LastAppliedAnnotation);
            if (configAnnotations.Count == 0)
            {
                config["metadata"]!.AsObject().Remove("annotations");
            }
        }

        var text = config.ToJsonString() + "\n";
        if (result["metadata"]?["annotations"] is not JsonObject annotations)
        {
            return;
        }

        if (text.Length > MaxLastAppliedBytes)
        {
            annotations.Remove(LastAppliedAnnotation);
            return;
        }

        annotations[LastAppliedAnnotation] = text;
    }

    /// <summary>
    /// Records an ordinary write (create, update, patch) by <paramref name="manager"/>: it takes the fields it
    /// changed, other managers lose them. Managed fields the request body sets explicitly replace the live ones.
    /// Returns <paramref name="updated"/> copied with its managedFields.
    /// </summary>
    public JsonObject Update(JsonObject? live, JsonObject updated, string manager, string apiVersion,
        string subresource = "", FieldSet? ignoredFields = null)
    {
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentException.ThrowIfNullOrEmpty(manager);
        ignoredFields ??= FieldSet.Empty;
        var source = updated["metadata"]?["managedFields"] is JsonArray ? updated : live;
        var managers = Group(ManagedFieldsEntry.Read(source));
        var comparison = _walker.Compare(live ?? [], updated, _root).Excluding(ignoredFields);
        var result = (JsonObject)updated.DeepClone();
        var identity = (manager, ManagedFieldsEntry.UpdateOperation, apiVersion, subresource);
        var changed = comparison.Modified.Union(comparison.Added);
        Release(managers, identity, changed, comparison.Removed);

        managers.TryGetValue(identity, out var previous);
        var owned = (previous?.Fields ?? new FieldSet()).Difference(comparison.Removed).Union(changed)
            .RecursiveDifference(ignoredFields).Difference(Stripped);
        if (owned.IsEmpty)
        {
            managers.Remove(identity);
        }
        else
        {
            var unchanged = previous is not null && previous.Fields.SetEquals(owned) && changed.IsEmpty && comparison.Removed.IsEmpty;
            managers[identity] = new ManagedFieldsEntry
            {
                Manager = manager,
                Operation = ManagedFieldsEntry.UpdateOperation,
                ApiVersion = apiVersion,
                Subresource = subresource,
                Time = unchanged ? previous!.Time : _time.GetUtcNow(),
                Fields = owned,
            };
        }

        ManagedFieldsEntry.Write(result, Cap(managers.Values));
        return result;
    }

    /// <summary>Longest field manager name accepted.</summary>
    public const int MaxManagerNameLength = 128;

    /// <summary>
    /// The manager of a write that names none: the User-Agent up to its first '/' (<c>kubectl/v1.32.0 …</c> gives
    /// <c>kubectl</c>), cut to <see cref="MaxManagerNameLength"/>, as upstream derives it.
    /// </summary>
    public static string ManagerFromUserAgent(string? userAgent)
    {
        var name = (userAgent ?? "").Split('/')[0];
        name = new string(name.Where(c => !char.IsControl(c)).ToArray());
        return name.Length > MaxManagerNameLength ? name[..MaxManagerNameLength] : name;
    }

    /// <summary>
    /// Checks the <c>fieldManager</c> query parameter: required for apply, at most 128 printable characters.
    /// Throws upstream's 422 on PatchOptions.meta.k8s.io.
    /// </summary>
    public static void ValidateManagerName(string? manager, bool apply)
    {
        var errors = new List<FieldError>();
        var path = FieldPath.Root("fieldManager");
        manager ??= "";
        if (apply && manager.Length == 0)
        {
            errors.Add(FieldError.Required(path, "is required for apply patch"));
        }

        if (manager.Length > MaxManagerNameLength)
        {
            errors.Add(FieldError.TooLong(path, MaxManagerNameLength));
        }

        for (var i = 0; i < manager.Length; i++)
        {
            if (char.IsControl(manager[i]) || char.GetUnicodeCategory(manager[i]) is System.Globalization.UnicodeCategory.Format)
            {
                errors.Add(FieldError.Invalid(path, manager,
                    string.Create(CultureInfo.InvariantCulture, $"invalid character U+{(int)manager[i]:X4} (at position {i})")));
            }
        }

        if (errors.Count > 0)
        {
            throw StatusException.Invalid("meta.k8s.io", apply ? "PatchOptions" : "UpdateOptions", "", errors);
        }
    }

    /// <summary>The fields a value specifies against this kind's schema (what applying it would own).</summary>
    public FieldSet FieldsOf(JsonNode? value) => _walker.ToFieldSet(value, _root).Difference(Stripped);

    /// <summary>
    /// Removes from the merged object the fields the applier applied last time and no longer does, unless some
    /// manager (including the applier, through its new configuration) still owns them.
    /// </summary>
    private JsonObject Prune(JsonObject merged, Dictionary<(string, string, string, string), ManagedFieldsEntry> managers, FieldSet lastApplied, FieldSet applied)
    {
        var last = TypedWalker.EnsureNamedFieldsAreMembers(lastApplied, _root);
        var owned = applied.Clone();
        foreach (var entry in managers.Values)
        {
            owned.UnionWith(entry.Fields);
        }

        owned = TypedWalker.EnsureNamedFieldsAreMembers(owned, _root);
        var present = TypedWalker.EnsureNamedFieldsAreMembers(_walker.ToFieldSet(merged, _root), _root);
        var remove = present.Intersection(last).Difference(owned);
        return remove.IsEmpty ? merged : (JsonObject)_walker.RemoveItems(merged, remove, _root)!;
    }

    /// <summary>Other managers lose the fields that were just changed or removed; empty entries disappear.</summary>
    private static void Release(Dictionary<(string, string, string, string), ManagedFieldsEntry> managers,
        (string, string, string, string) actor, FieldSet changed, FieldSet removed)
    {
        foreach (var key in managers.Keys.ToList())
        {
            if (key == actor)
            {
                continue;
            }

            var entry = managers[key];
            var remaining = entry.Fields.Difference(changed).Difference(removed);
            if (remaining.IsEmpty)
            {
                managers.Remove(key);
            }
            else if (!remaining.SetEquals(entry.Fields))
            {
                managers[key] = entry with { Fields = remaining };
            }
        }

        if (managers.TryGetValue(actor, out var own) && own.Fields.IsEmpty)
        {
            managers.Remove(actor);
        }
    }

    private static Dictionary<(string, string, string, string), ManagedFieldsEntry> Group(List<ManagedFieldsEntry> entries)
    {
        var managers = new Dictionary<(string, string, string, string), ManagedFieldsEntry>();
        foreach (var entry in entries)
        {
            managers[entry.Identity] = managers.TryGetValue(entry.Identity, out var existing)
                ? existing with { Fields = existing.Fields.Union(entry.Fields), Time = Max(existing.Time, entry.Time) }
                : entry;
        }

        return managers;
    }

    /// <summary>Folds the oldest Update entries into one once there are more than <see cref="MaxUpdateManagers"/>.</summary>
    private static List<ManagedFieldsEntry> Cap(IEnumerable<ManagedFieldsEntry> entries)
    {
        var all = entries.ToList();
        var updates = all.Where(e => e.Operation == ManagedFieldsEntry.UpdateOperation && e.Manager != AncientChangesManager)
            .OrderBy(e => e.Time ?? DateTimeOffset.MinValue).ToList();
        var bucket = all.FirstOrDefault(e => e.Operation == ManagedFieldsEntry.UpdateOperation && e.Manager == AncientChangesManager);
        var excess = updates.Count + (bucket is null ? 0 : 1) - MaxUpdateManagers;
        if (excess <= 0)
        {
            return all;
        }

        var folded = updates.Take(excess + (bucket is null ? 1 : 0)).ToList();
        var fields = bucket?.Fields ?? new FieldSet();
        foreach (var entry in folded)
        {
            fields = fields.Union(entry.Fields);
        }

        var newest = folded[^1];
        var result = all.Where(e => !folded.Contains(e) && e != bucket).ToList();
        result.Add(new ManagedFieldsEntry
        {
            Manager = AncientChangesManager,
            Operation = ManagedFieldsEntry.UpdateOperation,
            ApiVersion = newest.ApiVersion,
            Time = newest.Time,
            Fields = fields,
        });
        return result;
    }

    /// <summary>Upstream's 409: one conflict inline, several grouped by manager.</summary>
    private static StatusException ConflictError(List<ApplyConflict> conflicts)
    {
        var ordered = conflicts.OrderBy(c => c.Owner.Describe(), StringComparer.Ordinal).ThenBy(c => c.PathText, StringComparer.Ordinal).ToList();
        var causes = ordered.Select(c => new StatusCause("FieldManagerConflict", $"conflict with {c.Owner.Describe()}", c.PathText)).ToList();
        string message;
        if (ordered.Count == 1)
        {
            message = $"Apply failed with 1 conflict: conflict with {ordered[0].Owner.Describe()}: {ordered[0].PathText}";
        }
        else
        {
            var lines = ordered.GroupBy(c => c.Owner.Describe(), StringComparer.Ordinal)
                .SelectMany(g => new[] { $"conflicts with {g.Key}:" }.Concat(g.Select(c => $"- {c.PathText}")));
            message = string.Create(CultureInfo.InvariantCulture, $"Apply failed with {ordered.Count} conflicts: {string.Join("\n", lines)}");
        }

        return StatusException.ApplyConflict(causes, message);
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
