using System.Collections.Immutable;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// The group-versions served by other API servers through APIServices, as the availability controller last saw them:
/// read by routing (proxy or 503) and discovery on every request, replaced whole on change.
/// </summary>
internal sealed class AggregatedApis
{
    private ImmutableDictionary<string, ApiServiceBackend> _backends = ImmutableDictionary.Create<string, ApiServiceBackend>(StringComparer.Ordinal);
    private long _generation;

    /// <summary>Changes whenever what discovery publishes changes (a backend added, removed, found or lost).</summary>
    public long Generation => Volatile.Read(ref _generation);

    public IEnumerable<ApiServiceBackend> All => Volatile.Read(ref _backends).Values;

    public ApiServiceBackend? Find(string group, string version) =>
        Volatile.Read(ref _backends).TryGetValue(Key(group, version), out var backend) ? backend : null;

    /// <summary>Whether a group is served (at least in one version) by another API server.</summary>
    public bool ServesGroup(string group) => All.Any(b => b.Group == group);

    public void Put(ApiServiceBackend backend)
    {
        var key = Key(backend.Group, backend.Version);
        Volatile.Read(ref _backends).TryGetValue(key, out var previous);
        ImmutableInterlocked.AddOrUpdate(ref _backends, key, backend, (_, _) => backend);
        if (previous is null || previous.Name != backend.Name || previous.Available != backend.Available || Fingerprint(previous) != Fingerprint(backend))
        {
            Interlocked.Increment(ref _generation);
        }
    }

    private static string Fingerprint(ApiServiceBackend backend) => string.Join('\n', backend.Resources.Select(r =>
        $"{r.Resource}|{r.Kind}|{r.SingularName}|{r.Namespaced}|{string.Join(',', r.Verbs)}|{string.Join(',', r.ShortNames)}|{string.Join(',', r.Categories)}|" +
        string.Join(',', r.Subresources.Select(s => s.Key + ":" + string.Join(' ', s.Value)))));

    /// <summary>Forgets the backend the APIService <paramref name="name"/> registered, if any.</summary>
    public void Remove(string name)
    {
        foreach (var (key, backend) in Volatile.Read(ref _backends))
        {
            if (backend.Name == name && ImmutableInterlocked.TryRemove(ref _backends, key, out _))
            {
                Interlocked.Increment(ref _generation);
            }
        }
    }

    private static string Key(string group, string version) => group + "/" + version;
}
