using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Upstream's autoregister controller: a Local APIService for every group-version this server serves itself. Those of
/// the built-in resources are made at start (label automanaged=onstart, reset to their spec at each start); those of
/// CustomResourceDefinitions follow the catalog (automanaged=true), and go when the definition does.
/// </summary>
internal sealed partial class LocalApiServiceRegistration(ResourceRegistry registry, ILogger logger) : IDisposable
{
    public const string AutomanagedLabel = "kube-aggregator.kubernetes.io/automanaged";

    // Upstream's priorities for the built-in group-versions (group minimum, version priority); kubectl orders by them.
    private static readonly Dictionary<string, (int Group, int Version)> Priorities = new(StringComparer.Ordinal)
    {
        ["/v1"] = (18000, 1),
        ["apps/v1"] = (17800, 15),
        ["events.k8s.io/v1"] = (17750, 15),
        ["authentication.k8s.io/v1"] = (17700, 15),
        ["authorization.k8s.io/v1"] = (17600, 15),
        ["autoscaling/v2"] = (17500, 30),
        ["autoscaling/v1"] = (17500, 15),
        ["batch/v1"] = (17400, 15),
        ["certificates.k8s.io/v1"] = (17300, 15),
        ["networking.k8s.io/v1"] = (17200, 15),
        ["policy/v1"] = (17100, 15),
        ["rbac.authorization.k8s.io/v1"] = (17000, 15),
        ["storage.k8s.io/v1"] = (16800, 15),
        ["apiextensions.k8s.io/v1"] = (16700, 15),
        ["admissionregistration.k8s.io/v1"] = (16700, 15),
        ["scheduling.k8s.io/v1"] = (16600, 15),
        ["coordination.k8s.io/v1"] = (16500, 15),
        ["node.k8s.io/v1"] = (16300, 15),
        ["discovery.k8s.io/v1"] = (16200, 15),
        ["flowcontrol.apiserver.k8s.io/v1"] = (16100, 21),
        ["apiregistration.k8s.io/v1"] = (18000, 15),
    };

    private readonly SemaphoreSlim _sync = new(1, 1);

    private ApiResource ApiServices => registry.FindByGroupResource("apiservices.apiregistration.k8s.io")!;

    /// <summary>Registers the built-in group-versions, then keeps those of custom resources in step with the catalog.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var desired = registry.Catalog.BuiltInGroupVersions.ToDictionary(gv => Name(gv.Group, gv.Version), gv => Spec(gv.Group, gv.Version, builtIn: true), StringComparer.Ordinal);
        await SyncAsync("onstart", desired, cancellationToken).ConfigureAwait(false);
        registry.Catalog.Changed += OnCatalogChanged;
        void OnCatalogChanged(Registry.CatalogSnapshot snapshot) => Task.Run(() => SyncCustomResourcesAsync(cancellationToken), CancellationToken.None);
        await SyncCustomResourcesAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SyncCustomResourcesAsync(CancellationToken cancellationToken)
    {
        try
        {
            var builtIn = registry.Catalog.BuiltInGroupVersions.ToHashSet();
            var desired = registry.Catalog.Current.Resources
                .Select(r => (r.Group, r.Version))
                .Where(gv => !builtIn.Contains(gv))
                .Distinct()
                .ToDictionary(gv => Name(gv.Group, gv.Version), gv => Spec(gv.Group, gv.Version, builtIn: false), StringComparer.Ordinal);
            await SyncAsync("true", desired, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, ex);
        }
    }

    /// <summary>Creates, resets or deletes the APIServices carrying the label value <paramref name="automanaged"/>.</summary>
    private async Task SyncAsync(string automanaged, Dictionary<string, JsonObject> desired, CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var resource = ApiServices;
            // Each a write of its own: made together, they share the store's commits instead of waiting for a disk
            // sync each, one after another.
            var stale = registry.Cache.For(resource).Snapshot.Values
                .Where(o => o.Labels.TryGetValue(AutomanagedLabel, out var value) && value == automanaged && !desired.ContainsKey(o.Name))
                .Select(o => o.Name).ToList();
            await Task.WhenAll(
                desired.Select(d => EnsureAsync(resource, automanaged, d.Key, d.Value, cancellationToken))
                    .Concat(stale.Select(name => RemoveAsync(resource, name, cancellationToken)))).ConfigureAwait(false);
        }
        finally
        {
            _sync.Release();
        }
    }

    private async Task EnsureAsync(ApiResource resource, string automanaged, string name, JsonObject spec, CancellationToken cancellationToken)
    {
        var existing = registry.Get(resource, null, name)?.ToNode();
        if (existing is null)
        {
            var obj = new JsonObject
            {
                ["apiVersion"] = "apiregistration.k8s.io/v1",
                ["kind"] = "APIService",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { [AutomanagedLabel] = automanaged } },
                ["spec"] = spec,
            };
            try
            {
                await registry.CreateAsync(resource, null, obj, dryRun: false, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusError error) when (error.Reason == "AlreadyExists")
            {
            }

            return;
        }

        // An APIService someone made by hand is theirs; an automanaged one is put back as it should be.
        if ((string?)existing["metadata"]?["labels"]?[AutomanagedLabel] == automanaged && !JsonNode.DeepEquals(existing["spec"], spec))
        {
            await registry.UpdateAsync(resource, null, name, current =>
            {
                var node = current.ToNode();
                node["spec"] = spec.DeepClone();
                return node;
            }, null, dryRun: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RemoveAsync(ApiResource resource, string name, CancellationToken cancellationToken)
    {
        try
        {
            await registry.DeleteAsync(resource, null, name, new Registry.DeleteOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Code == 404)
        {
        }
    }

    // The core group-version is "v1." as upstream names it: VERSION.GROUP with an empty group.
    private static string Name(string group, string version) => $"{version}.{group}";

    private static JsonObject Spec(string group, string version, bool builtIn)
    {
        var (groupPriority, versionPriority) = Priorities.TryGetValue($"{group}/{version}", out var known) ? known
            : builtIn ? (15000, version.Contains("alpha", StringComparison.Ordinal) ? 1 : version.Contains("beta", StringComparison.Ordinal) ? 9 : 15)
            : (1000, 100);
        var spec = new JsonObject();
        if (group.Length > 0)
        {
            spec["group"] = group;
        }

        spec["version"] = version;
        spec["groupPriorityMinimum"] = groupPriority;
        spec["versionPriority"] = versionPriority;
        return spec;
    }

    public void Dispose() => _sync.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registering the local APIServices failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
