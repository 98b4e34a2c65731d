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

        var liveObject = WithoutManagedFields(live);
        var managers = Group(ManagedFieldsEntry.Read(live));
        var identity = (manager, ManagedFieldsEntry.ApplyOperation, "", subresource);
        managers.TryGetValue(identity, out var previous);

        var config = (JsonObject)applied.DeepClone();
        var merged = (JsonObject)_walker.Merge(liveObject, true, config, _root)!;
        var appliedSet = _walker.ToFieldSet(config, _root).Difference(Stripped).RecursiveDifference(ignoredFields);
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
            merged = Prune(merged, managers, previous.Fields);
        }

        var comparison = _walker.Compare(liveObject, merged, _root).Excluding(ignoredFields);
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
            throw ConflictError(conflicts);
        }

        Release(managers, identity, comparison.Modified.Union(comparison.Added), comparison.Removed);
        ManagedFieldsEntry.Write(merged, Cap(managers.Values));
        return merged;
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
        var liveObject = WithoutManagedFields(live);
        var result = WithoutManagedFields(updated);

        var comparison = _walker.Compare(liveObject, result, _root).Excluding(ignoredFields);
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

    /// <summary>The fields a value specifies against this kind's schema (what applying it would own).</summary>
    public FieldSet FieldsOf(JsonNode? value) => _walker.ToFieldSet(value, _root).Difference(Stripped);

    /// <summary>
    /// Removes from the merged object the fields the applier applied last time and no longer does, unless some
    /// manager (including the applier, through its new configuration) still owns them.
    /// </summary>
    private JsonObject Prune(JsonObject merged, Dictionary<(string, string, string, string), ManagedFieldsEntry> managers, FieldSet lastApplied)
    {
        var last = TypedWalker.EnsureNamedFieldsAreMembers(lastApplied, _root);
        var owned = new FieldSet();
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

    private static JsonObject WithoutManagedFields(JsonObject? obj)
    {
        var copy = (JsonObject?)obj?.DeepClone() ?? [];
        if (copy["metadata"] is JsonObject metadata)
        {
            metadata.Remove("managedFields");
        }

        return copy;
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
