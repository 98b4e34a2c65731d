namespace Kubesharp.Storage;

/// <summary>Opens a store from its endpoint; the executable registers one opener per backend.</summary>
public sealed class StoreFactory
{
    private readonly Dictionary<string, Func<DatastoreEndpoint, CancellationToken, Task<IStore>>> _openers = new(StringComparer.Ordinal);

    public StoreFactory Register(string scheme, Func<DatastoreEndpoint, CancellationToken, Task<IStore>> open)
    {
        _openers[scheme] = open;
        return this;
    }

    public Task<IStore> OpenAsync(DatastoreEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return _openers.TryGetValue(endpoint.Scheme, out var open)
            ? open(endpoint, cancellationToken)
            : throw new FormatException($"no datastore backend for {endpoint.Scheme}://");
    }
}
