using Kubesharp.ApiMachinery;

namespace Kubesharp.Client.Informers;

/// <summary>Read access to an informer's cache. Returned objects are shared: copy before changing.</summary>
public sealed class Lister<T>
    where T : class, IKubernetesObject
{
    private readonly Indexer<T> indexer;

    public Lister(Indexer<T> indexer)
    {
        this.indexer = indexer;
    }

    /// <summary>The object, or null; <paramref name="namespace"/> is null or empty for cluster-scoped kinds.</summary>
    public T? Get(string? @namespace, string name) => indexer.Get(ObjectKey.Of(@namespace, name));

    public IReadOnlyList<T> List(LabelSelectorMatcher? selector = null) => Filter(indexer.List(), selector);

    public IReadOnlyList<T> List(string @namespace, LabelSelectorMatcher? selector = null) =>
        Filter(indexer.ByIndex(Indexer<T>.NamespaceIndex, @namespace), selector);

    public IReadOnlyList<T> ByIndex(string indexName, string value) => indexer.ByIndex(indexName, value);

    private static IReadOnlyList<T> Filter(IReadOnlyList<T> objects, LabelSelectorMatcher? selector)
    {
        if (selector is null || selector.IsEmpty)
        {
            return objects;
        }

        return objects.Where(o => selector.Matches(o.Metadata?.Labels)).ToList();
    }
}
