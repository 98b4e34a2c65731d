using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// The resources the API server serves, as an immutable snapshot replaced on change (copy-on-write): readers take
/// <see cref="Current"/> without locks; custom resource definitions add and remove their own definitions at run time.
/// Discovery, OpenAPI and routing follow the current snapshot.
/// </summary>
internal sealed class ResourceCatalog
{
    private readonly Lock _writers = new();
    private readonly IReadOnlyList<ResourceDefinition> _builtIn;
    private readonly Dictionary<string, IReadOnlyList<ResourceDefinition>> _owned = new(StringComparer.Ordinal);
    private CatalogSnapshot _current;

    public ResourceCatalog(IReadOnlyList<ResourceDefinition> builtIn)
    {
        _builtIn = builtIn;
        _current = new CatalogSnapshot(builtIn, 0);
    }

    public CatalogSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after a change, with the new snapshot.</summary>
    public event Action<CatalogSnapshot>? Changed;

    /// <summary>Whether a built-in resource already serves this group (custom resources may not join it).</summary>
    public bool IsBuiltInGroup(string group) => _builtIn.Any(d => d.Resource.Group == group);

    /// <summary>The group-versions the built-in resources are served in (each a Local APIService).</summary>
    public IEnumerable<(string Group, string Version)> BuiltInGroupVersions => _builtIn.Select(d => (d.Resource.Group, d.Resource.Version)).Distinct();

    /// <summary>Sets (or with an empty list removes) the definitions an owner (a CustomResourceDefinition) contributes.</summary>
    public void Put(string owner, IReadOnlyList<ResourceDefinition> definitions)
    {
        CatalogSnapshot next;
        lock (_writers)
        {
            if (definitions.Count == 0)
            {
                if (!_owned.Remove(owner))
                {
                    return;
                }
            }
            else
            {
                _owned[owner] = definitions;
            }

            var all = new List<ResourceDefinition>(_builtIn);
            foreach (var (_, owned) in _owned.OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                all.AddRange(owned);
            }

            next = new CatalogSnapshot(all, _current.Generation + 1);
            Volatile.Write(ref _current, next);
        }

        Changed?.Invoke(next);
    }
}

/// <summary>One state of the catalog: every definition, indexed for routing.</summary>
internal sealed class CatalogSnapshot
{
    private readonly Dictionary<(string Group, string Version, string Resource), ResourceDefinition> _byResource = [];
    private readonly HashSet<(string Group, string Version)> _groupVersions = [];
    private readonly Dictionary<string, ResourceDefinition> _byGroupResource = new(StringComparer.Ordinal);

    public CatalogSnapshot(IReadOnlyList<ResourceDefinition> definitions, long generation)
    {
        Definitions = definitions;
        Generation = generation;
        Resources = definitions.Select(d => d.Resource).ToList();
        foreach (var definition in definitions)
        {
            var r = definition.Resource;
            _byResource.TryAdd((r.Group, r.Version, r.Resource), definition);
            _groupVersions.Add((r.Group, r.Version));
            _byGroupResource.TryAdd(r.GroupResource, definition);
        }
    }

    public IReadOnlyList<ResourceDefinition> Definitions { get; }

    public IReadOnlyList<ApiResource> Resources { get; }

    public long Generation { get; }

    public bool HasGroupVersion(string group, string version) => _groupVersions.Contains((group, version));

    public ResourceDefinition? Find(string group, string version, string resource) =>
        _byResource.GetValueOrDefault((group, version, resource));

    /// <summary>The first (preferred) version's definition of a group-resource.</summary>
    public ResourceDefinition? FindByGroupResource(string groupResource) => _byGroupResource.GetValueOrDefault(groupResource);

    public ResourceDefinition Of(ApiResource resource) =>
        Find(resource.Group, resource.Version, resource.Resource)
        ?? throw new Http.StatusError(404, "NotFound", $"the server could not find the requested resource ({resource.Resource}.{resource.Group})", group: resource.Group, kind: resource.Resource);
}
