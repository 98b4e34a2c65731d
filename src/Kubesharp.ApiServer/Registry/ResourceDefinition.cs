using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Printing;
using Kubesharp.ApiServer.Registry.Strategies;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// Everything the API server knows about one served resource (group, version, resource): what discovery publishes
/// (<see cref="Resource"/>: scope, verbs, subresources, short names, categories), the strategy hooks (defaulting,
/// validation, create/update/status), the schema that drives pruning, patches and apply, the fields a field selector
/// may name and the table columns. The registry, the endpoints, discovery and OpenAPI ask the definition; nothing
/// else knows a kind. Built-in kinds and custom resources are both definitions in the <see cref="ResourceCatalog"/>.
/// </summary>
internal class ResourceDefinition
{
    private readonly TimeProvider _timeProvider;

    public ResourceDefinition(
        ApiResource resource,
        ResourceStrategy strategy,
        TypeSchema? schema,
        IReadOnlyCollection<string> selectableFields,
        ResourceTable table,
        TimeProvider timeProvider)
    {
        Resource = resource;
        Strategy = strategy;
        Schema = schema;
        SelectableFields = selectableFields;
        Table = table;
        _timeProvider = timeProvider;
    }

    /// <summary>A definition that serves <paramref name="basis"/>'s kind differently (another version of it, say).</summary>
    protected ResourceDefinition(ResourceDefinition basis)
        : this(basis.Resource, basis.Strategy, basis.Schema, basis.SelectableFields, basis.Table, basis._timeProvider)
    {
    }

    public ApiResource Resource { get; }

    public ResourceStrategy Strategy { get; }

    /// <summary>The structural schema of the kind (pruning of unknown fields, strategic merge, apply); null when unknown.</summary>
    public TypeSchema? Schema { get; }

    /// <summary>Field selector keys besides metadata.name and metadata.namespace, as dotted paths.</summary>
    public IReadOnlyCollection<string> SelectableFields { get; }

    /// <summary>How <c>kubectl get</c> prints the kind (server-side printing): columns and cells.</summary>
    public ResourceTable Table { get; }

    public IReadOnlyList<TableColumn> Columns => Table.Columns;

    /// <summary>Whether strategic merge patch is understood (built-in kinds); custom resources answer 415 as upstream.</summary>
    public virtual bool SupportsStrategicMerge => true;

    /// <summary>The scale subresource's view: paths of spec and status replicas and of the label selector.</summary>
    public virtual ScalePaths? Scale => null;

    public JsonArray Cells(JsonElement obj) => Table.Row(obj, _timeProvider.GetUtcNow());

    /// <summary>Whether <see cref="Present"/> may change objects (a resource with several versions).</summary>
    public virtual bool Converts => false;

    /// <summary>
    /// The fields of <paramref name="body"/> the schema does not declare, as dotted paths; removed when
    /// <paramref name="remove"/> (decoding upstream drops them).
    /// </summary>
    public List<string> UnknownFields(JsonObject body, bool remove) => UnknownFields(body, null, remove);

    /// <summary>As <see cref="UnknownFields(JsonObject, bool)"/>, given the document <paramref name="body"/> was read from, if it is unchanged.</summary>
    public virtual List<string> UnknownFields(JsonObject body, JsonElement? parsed, bool remove) =>
        Schema is null ? [] : SchemaPruner.Prune(body, parsed, Schema, remove);

    /// <summary>
    /// The object as this version serves it (the stored object may be of another version of the resource). A conversion
    /// that fails (a conversion webhook's) is a <see cref="Http.StatusError"/>.
    /// </summary>
    public virtual ValueTask<CachedObject> PresentAsync(CachedObject stored, CancellationToken cancellationToken) => ValueTask.FromResult(Present(stored));

    /// <summary>Objects of a list as this version serves them, converted together (one conversion webhook call).</summary>
    public virtual ValueTask<List<CachedObject>> PresentAllAsync(List<CachedObject> stored, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Converts ? stored.ConvertAll(Present) : stored);

    /// <summary>An object of this version turned into the stored version before it is written.</summary>
    public virtual ValueTask<JsonObject> ToStorageAsync(JsonObject obj, CancellationToken cancellationToken) => ValueTask.FromResult(ToStorage(obj));

    /// <summary>The in-process conversion of a stored object into this version.</summary>
    protected virtual CachedObject Present(CachedObject stored) => stored;

    /// <summary>The in-process conversion of an object of this version into the stored version.</summary>
    protected virtual JsonObject ToStorage(JsonObject obj) => obj;
}

/// <summary>Where a resource keeps what the scale subresource reads and writes (dotted paths below the root).</summary>
internal sealed record ScalePaths(string SpecReplicas, string StatusReplicas, string? LabelSelector);
