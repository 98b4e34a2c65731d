namespace Kubesharp.Storage;

/// <summary>Copies every key of one store into another, empty one; works between any two backends.</summary>
public static class StoreMigration
{
    private const int PageSize = 500;
    private const int ParallelWrites = 64;

    /// <summary>Copies the keys as they are at one revision of <paramref name="source"/>; returns how many were copied.</summary>
    /// <exception cref="InvalidOperationException">The target already holds keys.</exception>
    public static async Task<long> CopyAsync(IStore source, IStore target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var existing = await target.ListAsync(string.Empty, new ListOptions(Limit: 1), cancellationToken).ConfigureAwait(false);
        if (existing.Items.Count > 0)
        {
            throw new InvalidOperationException($"the target datastore is not empty (it holds {existing.Items[0].Key})");
        }

        long copied = 0;
        var page = await source.ListAsync(string.Empty, new ListOptions(Limit: PageSize), cancellationToken).ConfigureAwait(false);
        var revision = page.Revision;
        while (true)
        {
            // Writes in parallel so that a group-committing target shares fsyncs between them.
            await Parallel.ForEachAsync(
                page.Items,
                new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
                async (item, token) => await target.CreateAsync(item.Key, item.Value, token).ConfigureAwait(false)).ConfigureAwait(false);
            copied += page.Items.Count;
            if (!page.More || page.Items.Count == 0)
            {
                return copied;
            }

            page = await source.ListAsync(string.Empty, new ListOptions(revision, PageSize, page.Items[^1].Key), cancellationToken).ConfigureAwait(false);
        }
    }
}
