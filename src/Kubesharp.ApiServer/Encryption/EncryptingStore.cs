using System.Runtime.CompilerServices;
using Kubesharp.Storage;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>
/// The API server's side of the store seam: values are encrypted on the way into the store and decrypted on the
/// way out under the current <see cref="EncryptionConfiguration"/>, so the store itself only ever sees bytes.
/// </summary>
public sealed class EncryptingStore(IStore inner, EncryptionConfiguration configuration) : IStore, IStoreHealth
{
    private EncryptionConfiguration _configuration = configuration;

    public IStore Inner { get; } = inner;

    /// <summary>The configuration in force; replacing it takes effect on the next read or write.</summary>
    public EncryptionConfiguration Configuration
    {
        get => Volatile.Read(ref _configuration);
        set => Volatile.Write(ref _configuration, value);
    }

    public string? Problem => (Inner as IStoreHealth)?.Problem;

    public Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken) => Inner.GetCurrentRevisionAsync(cancellationToken);

    public async Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken) =>
        Decrypt(await Inner.GetAsync(key, revision, cancellationToken).ConfigureAwait(false));

    public async Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken)
    {
        var result = await Inner.ListAsync(prefix, options, cancellationToken).ConfigureAwait(false);
        KeyValue[]? decrypted = null;
        for (var i = 0; i < result.Items.Count; i++)
        {
            var item = result.Items[i];
            if (EncryptionConfiguration.IsEncrypted(item.Value.Span) || (Configuration.HasRules && Configuration.ProvidersOf(EncryptionConfiguration.ResourceOf(item.Key) ?? string.Empty) is not null))
            {
                decrypted ??= [.. result.Items];
                decrypted[i] = Decrypt(item)!;
            }
        }

        return decrypted is null ? result : result with { Items = decrypted };
    }

    public async Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var stored = await Inner.CreateAsync(key, Configuration.ToStorage(key, value), cancellationToken).ConfigureAwait(false);
        return stored with { Value = value };
    }

    public async Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await Inner.UpdateAsync(key, Configuration.ToStorage(key, value), expectedModRevision, cancellationToken).ConfigureAwait(false);
            return stored with { Value = value };
        }
        catch (ConflictException conflict) when (conflict.Current is not null)
        {
            throw new ConflictException(conflict.Key, Decrypt(conflict.Current));
        }
    }

    public async Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken)
    {
        try
        {
            // The delete happened whatever the old value holds: one no key reads is handed back marked, not thrown.
            return DecryptOrMark(await Inner.DeleteAsync(key, expectedModRevision, cancellationToken).ConfigureAwait(false))!;
        }
        catch (ConflictException conflict) when (conflict.Current is not null)
        {
            throw new ConflictException(conflict.Key, Decrypt(conflict.Current));
        }
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var change in Inner.WatchAsync(prefix, afterRevision, cancellationToken).ConfigureAwait(false))
        {
            yield return new WatchEvent(change.Type, DecryptOrMark(change.Current)!, DecryptOrMark(change.Previous));
        }
    }

    public Task CompactAsync(long revision, CancellationToken cancellationToken) => Inner.CompactAsync(revision, cancellationToken);

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken) => Inner.GetCompactedRevisionAsync(cancellationToken);

    /// <summary>Writes the value again with the configuration's current writer, if it changed nothing meanwhile.</summary>
    /// <returns>Whether the key was rewritten (false when it was deleted or changed concurrently, which wrote it anew anyway).</returns>
    internal async Task<bool> RewriteAsync(string key, CancellationToken cancellationToken)
    {
        var current = await GetAsync(key, 0, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return false;
        }

        try
        {
            await UpdateAsync(key, current.Value, current.ModRevision, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is ConflictException or KeyNotFoundStorageException)
        {
            return false;
        }
    }

    /// <summary>The inner store belongs to whoever opened it.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private KeyValue? DecryptOrMark(KeyValue? stored)
    {
        try
        {
            return Decrypt(stored);
        }
        catch (EncryptionException ex)
        {
            return stored! with { ReadError = ex.Message };
        }
    }

    private KeyValue? Decrypt(KeyValue? stored)
    {
        if (stored is null || stored.Value.Length == 0)
        {
            return stored;
        }

        var plain = Configuration.FromStorage(stored.Key, stored.Value);
        return plain.Equals(stored.Value) ? stored : stored with { Value = plain };
    }
}
