using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>
/// One resource discovery named, watched through a metadata-only informer: the cache holds each object's
/// metadata (managedFields dropped) and nothing else, whatever the kind. Runs until stopped, apart from the
/// other resources, so resources can come and go with their CRDs.
/// </summary>
internal sealed class ResourceMonitor
{
    private readonly ResourceClient<PartialObjectMetadata> client;
    private readonly SharedInformer<PartialObjectMetadata> informer;
    private readonly CancellationTokenSource stopping;
    private Task running = Task.CompletedTask;

    public ResourceMonitor(ControllerContext context, ApiResource resource, CancellationToken cancellationToken)
    {
        Resource = resource;
        client = context.Client.MetadataResource(resource);
        informer = new SharedInformer<PartialObjectMetadata>(client, new SharedInformerOptions { TrimManagedFields = true }, context.Time, context.LoggerFactory.CreateLogger<ResourceMonitor>());
        stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public ApiResource Resource { get; }

    /// <summary>Reports changes, then starts listing and watching.</summary>
    public void Start(Action<ResourceMonitor, PartialObjectMetadata> onUpsert, Action<PartialObjectMetadata> onDelete)
    {
        informer.AddEventHandler(o => onUpsert(this, o), (_, o) => onUpsert(this, o), onDelete);
        running = Task.Run(() => informer.RunAsync(stopping.Token), CancellationToken.None);
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => informer.WaitForSyncAsync(cancellationToken);

    /// <summary>Stops the watch; the cached objects are returned so the graph can let go of them.</summary>
    public async Task<IReadOnlyList<PartialObjectMetadata>> StopAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        stopping.Dispose();
        return informer.Indexer.List();
    }

    public ObjectMeta? GetCached(string? @namespace, string name) => informer.Lister.Get(Resource.Namespaced ? @namespace : null, name)?.Metadata;

    /// <summary>The live object's metadata, or null when it does not exist.</summary>
    public async Task<ObjectMeta?> GetAsync(string? @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false)).Metadata;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    public async Task DeleteAsync(string? @namespace, string name, DeleteOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteAsync(@namespace, name, options, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    public async Task PatchAsync(string? @namespace, string name, string jsonPatch, CancellationToken cancellationToken)
    {
        try
        {
            await client.PatchAsync(@namespace, name, PatchType.Json, jsonPatch, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }
}
