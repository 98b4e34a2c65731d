using System.Text;

namespace Kubesharp.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IStore"/> backend must show; each backend's test class derives from
/// this one and only says how to open a fresh, empty store.
/// </summary>
public abstract class StoreConformanceTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private IStore? _store;

    protected IStore Store => _store ?? throw new InvalidOperationException("store not opened");

    /// <summary>A store with no keys; each test gets its own.</summary>
    protected abstract Task<IStore> OpenEmptyStoreAsync();

    /// <summary>Keys of one test live under this prefix so backends may share a server between tests.</summary>
    protected string Prefix { get; } = $"/t{Guid.NewGuid():N}/";

    public async Task InitializeAsync() => _store = await OpenEmptyStoreAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    private static CancellationToken Timeout() => new CancellationTokenSource(Patience).Token;

    [Fact]
    public async Task Create_NewKey_GetReturnsValueAndRevisions()
    {
        var before = await Store.GetCurrentRevisionAsync(default);
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);

        Assert.True(created.ModRevision > before);
        Assert.Equal(created.ModRevision, created.CreateRevision);
        Assert.Equal(created.ModRevision, await Store.GetCurrentRevisionAsync(default));
        var read = await Store.GetAsync(Prefix + "a", 0, default);
        Assert.NotNull(read);
        Assert.Equal("one", Text(read.Value));
        Assert.Equal(created.ModRevision, read.ModRevision);
        Assert.Equal(created.CreateRevision, read.CreateRevision);
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull()
    {
        await Store.CreateAsync(Prefix + "other", Bytes("x"), default);

        Assert.Null(await Store.GetAsync(Prefix + "missing", 0, default));
    }

    [Fact]
    public async Task Create_ExistingKey_ThrowsKeyExists()
    {
        await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var revision = await Store.GetCurrentRevisionAsync(default);

        var error = await Assert.ThrowsAsync<KeyExistsException>(() => Store.CreateAsync(Prefix + "a", Bytes("two"), default));

        Assert.Equal(Prefix + "a", error.Key);
        Assert.Equal(revision, await Store.GetCurrentRevisionAsync(default));
        Assert.Equal("one", Text((await Store.GetAsync(Prefix + "a", 0, default))!.Value));
    }

    [Fact]
    public async Task Create_AfterDelete_StartsNewCreateRevision()
    {
        var first = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        await Store.DeleteAsync(Prefix + "a", 0, default);

        var second = await Store.CreateAsync(Prefix + "a", Bytes("two"), default);

        Assert.True(second.CreateRevision > first.CreateRevision);
        Assert.Equal(second.ModRevision, second.CreateRevision);
    }

    [Fact]
    public async Task Update_MatchingModRevision_ReplacesValueAndKeepsCreateRevision()
    {
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);

        var updated = await Store.UpdateAsync(Prefix + "a", Bytes("two"), created.ModRevision, default);

        Assert.True(updated.ModRevision > created.ModRevision);
        Assert.Equal(created.CreateRevision, updated.CreateRevision);
        Assert.Equal("two", Text((await Store.GetAsync(Prefix + "a", 0, default))!.Value));
    }

    [Fact]
    public async Task Update_StaleModRevision_ThrowsConflictWithCurrentValue()
    {
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var updated = await Store.UpdateAsync(Prefix + "a", Bytes("two"), created.ModRevision, default);

        var error = await Assert.ThrowsAsync<ConflictException>(() => Store.UpdateAsync(Prefix + "a", Bytes("three"), created.ModRevision, default));

        Assert.NotNull(error.Current);
        Assert.Equal(updated.ModRevision, error.Current.ModRevision);
        Assert.Equal("two", Text(error.Current.Value));
        Assert.Equal("two", Text((await Store.GetAsync(Prefix + "a", 0, default))!.Value));
    }

    [Fact]
    public async Task Update_MissingKey_ThrowsKeyNotFound()
    {
        await Assert.ThrowsAsync<KeyNotFoundStorageException>(() => Store.UpdateAsync(Prefix + "missing", Bytes("x"), 1, default));
    }

    [Fact]
    public async Task Update_ConcurrentCompareAndSwap_ExactlyOneWinsEachRound()
    {
        var current = await Store.CreateAsync(Prefix + "counter", Bytes("0"), default);
        for (var round = 0; round < 5; round++)
        {
            var expected = current.ModRevision;
            var attempts = Enumerable.Range(0, 8)
                .Select(i => Store.UpdateAsync(Prefix + "counter", Bytes($"{round}-{i}"), expected, default))
                .ToArray();
            var outcomes = await Task.WhenAll(attempts.Select(async t =>
            {
                try
                {
                    return await t;
                }
                catch (ConflictException)
                {
                    return null;
                }
            }));

            var winners = outcomes.Where(o => o is not null).ToList();
            Assert.Single(winners);
            current = winners[0]!;
        }
    }

    [Fact]
    public async Task Delete_MatchingModRevision_RemovesKeyAndReturnsDeletedValue()
    {
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);

        var deleted = await Store.DeleteAsync(Prefix + "a", created.ModRevision, default);

        Assert.Equal("one", Text(deleted.Value));
        Assert.Equal(created.CreateRevision, deleted.CreateRevision);
        Assert.True(deleted.ModRevision > created.ModRevision);
        Assert.Equal(deleted.ModRevision, await Store.GetCurrentRevisionAsync(default));
        Assert.Null(await Store.GetAsync(Prefix + "a", 0, default));
    }

    [Fact]
    public async Task Delete_StaleModRevision_ThrowsConflictAndKeepsKey()
    {
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        await Store.UpdateAsync(Prefix + "a", Bytes("two"), created.ModRevision, default);

        await Assert.ThrowsAsync<ConflictException>(() => Store.DeleteAsync(Prefix + "a", created.ModRevision, default));

        Assert.NotNull(await Store.GetAsync(Prefix + "a", 0, default));
    }

    [Fact]
    public async Task Delete_MissingKey_ThrowsKeyNotFound()
    {
        await Assert.ThrowsAsync<KeyNotFoundStorageException>(() => Store.DeleteAsync(Prefix + "missing", 0, default));
    }

    [Fact]
    public async Task Get_AtOldRevision_ReturnsValueOfThatRevision()
    {
        var first = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var second = await Store.UpdateAsync(Prefix + "a", Bytes("two"), first.ModRevision, default);
        await Store.DeleteAsync(Prefix + "a", 0, default);

        Assert.Equal("one", Text((await Store.GetAsync(Prefix + "a", first.ModRevision, default))!.Value));
        Assert.Equal("two", Text((await Store.GetAsync(Prefix + "a", second.ModRevision, default))!.Value));
        Assert.Null(await Store.GetAsync(Prefix + "a", 0, default));
    }

    [Fact]
    public async Task Get_FutureRevision_ThrowsFutureRevision()
    {
        await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var current = await Store.GetCurrentRevisionAsync(default);

        await Assert.ThrowsAsync<FutureRevisionException>(() => Store.GetAsync(Prefix + "a", current + 1000, default));
    }

    [Fact]
    public async Task Revision_ConcurrentWrites_EveryAcknowledgedRevisionDistinctAndIncreasing()
    {
        var start = await Store.GetCurrentRevisionAsync(default);
        var writes = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Store.CreateAsync($"{Prefix}k{i:D4}", Bytes("v"), default)));

        var revisions = writes.Select(w => w.ModRevision).ToList();
        Assert.Equal(revisions.Count, revisions.Distinct().Count());
        Assert.All(revisions, r => Assert.True(r > start));
        Assert.True(await Store.GetCurrentRevisionAsync(default) >= revisions.Max());
    }

    [Fact]
    public async Task Create_ValueOverLimit_ThrowsValueTooLarge()
    {
        await Assert.ThrowsAsync<ValueTooLargeException>(() => Store.CreateAsync(Prefix + "big", new byte[IStore.MaxValueBytes + 1], default));

        Assert.Null(await Store.GetAsync(Prefix + "big", 0, default));
    }

    [Fact]
    public async Task Create_ValueAtLimit_IsStored()
    {
        var value = new byte[IStore.MaxValueBytes];
        value[^1] = 7;

        await Store.CreateAsync(Prefix + "big", value, default);

        var read = await Store.GetAsync(Prefix + "big", 0, default);
        Assert.Equal(IStore.MaxValueBytes, read!.Value.Length);
        Assert.Equal(7, read.Value.Span[^1]);
    }

    [Fact]
    public async Task List_ValuesAtLimitTogetherOverFourMebibytes_ReturnsEveryValue()
    {
        // Four values of 1.5 MiB come back as one 6 MiB answer, above common 4 MiB message limits.
        for (var i = 0; i < 4; i++)
        {
            var value = new byte[IStore.MaxValueBytes];
            value[^1] = (byte)i;
            await Store.CreateAsync($"{Prefix}big{i}", value, default);
        }

        var list = await Store.ListAsync(Prefix, new ListOptions(), default);

        Assert.Equal(4, list.Items.Count);
        Assert.All(list.Items, (item, i) => Assert.Equal(i, item.Value.Span[^1]));
    }

    [Fact]
    public async Task Update_ValueOverLimit_ThrowsValueTooLarge()
    {
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);

        await Assert.ThrowsAsync<ValueTooLargeException>(() => Store.UpdateAsync(Prefix + "a", new byte[IStore.MaxValueBytes + 1], created.ModRevision, default));
    }

    [Fact]
    public async Task List_Prefix_ReturnsOnlyLiveKeysUnderPrefixInKeyOrder()
    {
        await Store.CreateAsync(Prefix + "b", Bytes("2"), default);
        await Store.CreateAsync(Prefix + "a", Bytes("1"), default);
        await Store.CreateAsync(Prefix + "c", Bytes("3"), default);
        await Store.DeleteAsync(Prefix + "c", 0, default);
        await Store.CreateAsync(Prefix.TrimEnd('/') + "x/outside", Bytes("no"), default);

        var list = await Store.ListAsync(Prefix, new ListOptions(), default);

        Assert.Equal([Prefix + "a", Prefix + "b"], list.Items.Select(i => i.Key));
        Assert.Equal(["1", "2"], list.Items.Select(i => Text(i.Value)));
        Assert.False(list.More);
        Assert.Equal(await Store.GetCurrentRevisionAsync(default), list.Revision);
    }

    [Fact]
    public async Task List_AtOldRevision_ReturnsKeysAsTheyWere()
    {
        var a = await Store.CreateAsync(Prefix + "a", Bytes("1"), default);
        await Store.UpdateAsync(Prefix + "a", Bytes("1b"), a.ModRevision, default);
        await Store.CreateAsync(Prefix + "b", Bytes("2"), default);

        var list = await Store.ListAsync(Prefix, new ListOptions(Revision: a.ModRevision), default);

        Assert.Equal([Prefix + "a"], list.Items.Select(i => i.Key));
        Assert.Equal("1", Text(list.Items[0].Value));
        Assert.Equal(a.ModRevision, list.Revision);
    }

    [Fact]
    public async Task List_PagesWhileWritesContinue_ConsistentAtFirstPageRevision()
    {
        for (var i = 0; i < 50; i++)
        {
            await Store.CreateAsync($"{Prefix}k{i:D3}", Bytes($"v{i}"), default);
        }

        var first = await Store.ListAsync(Prefix, new ListOptions(Limit: 10), default);
        Assert.True(first.More);
        Assert.Equal(40, first.RemainingCount);
        var keys = first.Items.Select(i => i.Key).ToList();
        var after = first.Items[^1].Key;
        var page = first;
        var churn = 0;
        while (page.More)
        {
            // Writes between pages: updates, deletes and new keys must not show in later pages.
            var victim = $"{Prefix}k{49 - churn:D3}";
            var current = await Store.GetAsync(victim, 0, default);
            if (churn % 2 == 0)
            {
                await Store.DeleteAsync(victim, 0, default);
            }
            else
            {
                await Store.UpdateAsync(victim, Bytes("changed"), current!.ModRevision, default);
            }

            await Store.CreateAsync($"{Prefix}k{churn:D3}x", Bytes("new"), default);
            churn++;
            page = await Store.ListAsync(Prefix, new ListOptions(Revision: first.Revision, Limit: 10, StartAfter: after), default);
            Assert.Equal(first.Revision, page.Revision);
            keys.AddRange(page.Items.Select(i => i.Key));
            Assert.All(page.Items, i => Assert.DoesNotContain("changed", Text(i.Value), StringComparison.Ordinal));
            after = page.Items[^1].Key;
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{Prefix}k{i:D3}"), keys);
    }

    [Fact]
    public async Task List_LimitExactlyMatchesCount_ReportsNoMore()
    {
        for (var i = 0; i < 3; i++)
        {
            await Store.CreateAsync($"{Prefix}k{i}", Bytes("v"), default);
        }

        var list = await Store.ListAsync(Prefix, new ListOptions(Limit: 3), default);

        Assert.Equal(3, list.Items.Count);
        Assert.False(list.More);
    }

    [Fact]
    public async Task Watch_ManyConcurrentWriters_EveryChangeOnceInRevisionOrder()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        const int writers = 16, perWriter = 25;
        var expected = writers * perWriter * 2;
        var watching = CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), expected, cancel.Token);

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                var created = await Store.CreateAsync($"{Prefix}w{w}/k{i}", Bytes("v"), default);
                await Store.UpdateAsync(created.Key, Bytes("v2"), created.ModRevision, default);
            }
        })));

        var events = await watching;
        var end = await Store.GetCurrentRevisionAsync(default);
        var revisions = events.Select(e => e.Revision).ToList();
        Assert.Equal(expected, revisions.Count);
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions.Count, revisions.Distinct().Count());
        Assert.All(revisions, r => Assert.InRange(r, start + 1, end));
        Assert.Equal(writers * perWriter, events.Count(e => e.Previous is null));
        Assert.All(events.Where(e => e.Previous is not null), e => Assert.Equal("v", Text(e.Previous!.Value)));
    }

    [Fact]
    public async Task Watch_FromOldRevision_ReplaysHistoryThenContinuesLive()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        for (var i = 0; i < 20; i++)
        {
            await Store.CreateAsync($"{Prefix}old{i:D2}", Bytes("v"), default);
        }

        var watching = CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), 40, cancel.Token);
        for (var i = 0; i < 20; i++)
        {
            await Store.CreateAsync($"{Prefix}new{i:D2}", Bytes("v"), default);
        }

        var events = await watching;
        Assert.Equal(
            Enumerable.Range(0, 20).Select(i => $"{Prefix}old{i:D2}").Concat(Enumerable.Range(0, 20).Select(i => $"{Prefix}new{i:D2}")),
            events.Select(e => e.Current.Key));
        Assert.Equal(events.Select(e => e.Revision).Order(), events.Select(e => e.Revision));
    }

    [Fact]
    public async Task Watch_ResumedFromLastSeenRevision_NoGapNoDuplicate()
    {
        var start = await Store.GetCurrentRevisionAsync(default);
        var seen = new List<WatchEvent>();
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                await Store.CreateAsync($"{Prefix}k{i:D2}", Bytes("v"), default);
            }
        });

        var after = start;
        while (seen.Count < 60)
        {
            // Take a few events, drop the watch, resume from the last revision seen.
            using var cancel = new CancellationTokenSource(Patience);
            var batch = await CollectAsync(Store.WatchAsync(Prefix, after, cancel.Token), Math.Min(7, 60 - seen.Count), cancel.Token);
            seen.AddRange(batch);
            after = batch[^1].Revision;
        }

        await writing;
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{Prefix}k{i:D2}"), seen.Select(e => e.Current.Key));
    }

    [Fact]
    public async Task Watch_UpdateAndDelete_CarryPreviousValue()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        var watching = CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), 3, cancel.Token);

        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var updated = await Store.UpdateAsync(Prefix + "a", Bytes("two"), created.ModRevision, default);
        var deleted = await Store.DeleteAsync(Prefix + "a", updated.ModRevision, default);

        var events = await watching;
        Assert.Equal([WatchEventType.Put, WatchEventType.Put, WatchEventType.Delete], events.Select(e => e.Type));
        Assert.Null(events[0].Previous);
        Assert.Equal("one", Text(events[0].Current.Value));
        Assert.Equal("one", Text(events[1].Previous!.Value));
        Assert.Equal(created.ModRevision, events[1].Previous!.ModRevision);
        Assert.Equal("two", Text(events[1].Current.Value));
        Assert.Equal(created.CreateRevision, events[1].Current.CreateRevision);
        Assert.Equal(deleted.ModRevision, events[2].Revision);
        Assert.Equal("two", Text(events[2].Previous!.Value));
        Assert.Equal(updated.ModRevision, events[2].Previous!.ModRevision);
        Assert.Equal(0, events[2].Current.Value.Length);
    }

    [Fact]
    public async Task Watch_HistoryReplay_CarriesPreviousValue()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        await Store.UpdateAsync(Prefix + "a", Bytes("two"), created.ModRevision, default);
        await Store.DeleteAsync(Prefix + "a", 0, default);

        var events = await CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), 3, cancel.Token);

        Assert.Null(events[0].Previous);
        Assert.Equal("one", Text(events[1].Previous!.Value));
        Assert.Equal(WatchEventType.Delete, events[2].Type);
        Assert.Equal("two", Text(events[2].Previous!.Value));
    }

    [Fact]
    public async Task Watch_Prefix_SkipsKeysOutsidePrefix()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        var watching = CollectAsync(Store.WatchAsync(Prefix + "in/", start, cancel.Token), 2, cancel.Token);

        await Store.CreateAsync(Prefix + "out/1", Bytes("v"), default);
        await Store.CreateAsync(Prefix + "in/1", Bytes("v"), default);
        await Store.CreateAsync(Prefix + "inx", Bytes("v"), default);
        await Store.CreateAsync(Prefix + "in/2", Bytes("v"), default);

        var events = await watching;
        Assert.Equal([Prefix + "in/1", Prefix + "in/2"], events.Select(e => e.Current.Key));
    }

    [Fact]
    public async Task Watch_TokenCancelledBeforeStart_EndsWithoutStoreError()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        var start = await Store.GetCurrentRevisionAsync(default);
        var count = 0;
        try
        {
            await foreach (var unused in Store.WatchAsync(Prefix, start, cancel.Token))
            {
                count++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Equal(0, count);
    }

    [Fact]
    public async Task Watch_TokenCancelled_EnumerationEnds()
    {
        using var cancel = new CancellationTokenSource();
        var start = await Store.GetCurrentRevisionAsync(default);
        var watching = Task.Run(async () =>
        {
            var count = 0;
            try
            {
                await foreach (var unused in Store.WatchAsync(Prefix, start, cancel.Token))
                {
                    count++;
                    if (count == 1)
                    {
                        await cancel.CancelAsync();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }

            return count;
        });

        await Store.CreateAsync(Prefix + "a", Bytes("v"), default);

        Assert.Equal(1, await watching.WaitAsync(Patience));
    }

    [Fact]
    public async Task Watch_ManyConcurrentWatchers_EachReceivesEveryChange()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        const int watchers = 50, changes = 40;
        var watching = Enumerable.Range(0, watchers)
            .Select(_ => CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), changes, cancel.Token))
            .ToArray();

        await Task.WhenAll(Enumerable.Range(0, changes).Select(i => Store.CreateAsync($"{Prefix}k{i:D2}", Bytes("v"), default)));

        var results = await Task.WhenAll(watching);
        var reference = results[0].Select(e => e.Revision).ToList();
        Assert.Equal(changes, reference.Distinct().Count());
        Assert.All(results, r => Assert.Equal(reference, r.Select(e => e.Revision)));
    }

    [Fact]
    public async Task Watch_SlowWatcherNeverReads_OtherWatchersAndWritersProceed()
    {
        using var cancel = new CancellationTokenSource(Patience);
        var start = await Store.GetCurrentRevisionAsync(default);
        const int changes = 600;
        await using var slow = Store.WatchAsync(Prefix, start, cancel.Token).GetAsyncEnumerator(cancel.Token);
        // The slow watcher takes its first event and then reads nothing until every write is done.
        var slowFirst = slow.MoveNextAsync().AsTask();
        var fast = CollectAsync(Store.WatchAsync(Prefix, start, cancel.Token), changes, cancel.Token);

        var payload = new byte[2048];
        for (var i = 0; i < changes; i += 20)
        {
            await Task.WhenAll(Enumerable.Range(i, 20).Select(k => Store.CreateAsync($"{Prefix}k{k:D4}", payload, default)));
        }

        Assert.Equal(changes, (await fast).Count);
        Assert.True(await slowFirst);

        // The slow watcher still gets everything, in order, once it reads.
        var slowRevisions = new List<long> { slow.Current.Revision };
        while (slowRevisions.Count < changes && await slow.MoveNextAsync())
        {
            slowRevisions.Add(slow.Current.Revision);
        }

        Assert.Equal(changes, slowRevisions.Distinct().Count());
        Assert.Equal(slowRevisions.Order(), slowRevisions);
    }

    [Fact]
    public async Task Compact_ThenReadBelowCompacted_ThrowsCompacted()
    {
        var first = await Store.CreateAsync(Prefix + "a", Bytes("one"), default);
        var second = await Store.UpdateAsync(Prefix + "a", Bytes("two"), first.ModRevision, default);
        await Store.UpdateAsync(Prefix + "a", Bytes("three"), second.ModRevision, default);

        await Store.CompactAsync(second.ModRevision, default);

        Assert.True(await Store.GetCompactedRevisionAsync(default) >= second.ModRevision);
        var get = await Assert.ThrowsAsync<CompactedException>(() => Store.GetAsync(Prefix + "a", first.ModRevision, default));
        Assert.Equal(first.ModRevision, get.RequestedRevision);
        await Assert.ThrowsAsync<CompactedException>(() => Store.ListAsync(Prefix, new ListOptions(Revision: first.ModRevision), default));
        await Assert.ThrowsAsync<CompactedException>(async () =>
        {
            await foreach (var unused in Store.WatchAsync(Prefix, first.ModRevision - 1, Timeout()))
            {
            }
        });
    }

    [Fact]
    public async Task Compact_KeepsLatestValuesAndHistoryAboveCompacted()
    {
        var a = await Store.CreateAsync(Prefix + "a", Bytes("a1"), default);
        var b = await Store.CreateAsync(Prefix + "b", Bytes("b1"), default);
        var c = await Store.CreateAsync(Prefix + "c", Bytes("c1"), default);
        await Store.DeleteAsync(Prefix + "c", 0, default);
        var a2 = await Store.UpdateAsync(Prefix + "a", Bytes("a2"), a.ModRevision, default);
        var compactAt = a2.ModRevision;
        var b2 = await Store.UpdateAsync(Prefix + "b", Bytes("b2"), b.ModRevision, default);

        await Store.CompactAsync(compactAt, default);

        Assert.Equal("a2", Text((await Store.GetAsync(Prefix + "a", compactAt, default))!.Value));
        Assert.Equal("b1", Text((await Store.GetAsync(Prefix + "b", compactAt, default))!.Value));
        Assert.Null(await Store.GetAsync(Prefix + "c", compactAt, default));
        var list = await Store.ListAsync(Prefix, new ListOptions(Revision: compactAt), default);
        Assert.Equal(["a2", "b1"], list.Items.Select(i => Text(i.Value)));
        using var cancel = new CancellationTokenSource(Patience);
        var events = await CollectAsync(Store.WatchAsync(Prefix, compactAt, cancel.Token), 1, cancel.Token);
        Assert.Equal(b2.ModRevision, events[0].Revision);
        Assert.Equal("b1", Text(events[0].Previous!.Value));
        Assert.Equal(c.CreateRevision, c.ModRevision);
    }

    [Fact]
    public async Task Compact_WatchFromCompactedRevision_Succeeds()
    {
        var a = await Store.CreateAsync(Prefix + "a", Bytes("a1"), default);
        await Store.CompactAsync(a.ModRevision, default);
        var a2 = await Store.UpdateAsync(Prefix + "a", Bytes("a2"), a.ModRevision, default);

        using var cancel = new CancellationTokenSource(Patience);
        var events = await CollectAsync(Store.WatchAsync(Prefix, a.ModRevision, cancel.Token), 1, cancel.Token);

        Assert.Equal(a2.ModRevision, events[0].Revision);
    }

    /// <summary>Reads exactly <paramref name="count"/> events, then stops the watch.</summary>
    protected static async Task<List<WatchEvent>> CollectAsync(IAsyncEnumerable<WatchEvent> watch, int count, CancellationToken cancellationToken)
    {
        var events = new List<WatchEvent>(count);
        if (count == 0)
        {
            return events;
        }

        await foreach (var watchEvent in watch.WithCancellation(cancellationToken))
        {
            events.Add(watchEvent);
            if (events.Count == count)
            {
                break;
            }
        }

        Assert.Equal(count, events.Count);
        return events;
    }
}
