using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Storage.Etcd;

/// <summary>
/// The store on a real etcd v3 cluster. Keys are stored as given; creates compare the key's create
/// revision with 0 and updates/deletes compare its mod revision inside one transaction, so every
/// guarantee comes from etcd itself. Each watch has its own stream, so a slow reader stalls only itself.
/// </summary>
public sealed class EtcdStore : IStore
{
    private static readonly ByteString ProbeKey = ByteString.CopyFromUtf8("\0kubesharp/revision-probe");

    private readonly EtcdConnection[] _connections;
    private readonly EtcdStoreOptions _options;
    private int _current;
    private int _disposed;

    private EtcdStore(EtcdStoreOptions options)
    {
        _options = options;
        var useTls = options.UseTls || options.Endpoints.Any(e => e.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        var ssl = useTls ? EtcdTls.CreateOptions(options) : null;
        var bareScheme = options.UseTls ? "https://" : "http://";
        _connections = options.Endpoints
            .Select(e => EtcdConnection.Open(e.Contains("://", StringComparison.Ordinal) ? e : bareScheme + e, ssl))
            .ToArray();
    }

    /// <summary>Connects to the first member that answers a status request.</summary>
    public static async Task<EtcdStore> OpenAsync(EtcdStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is needed", nameof(options));
        }

        var store = new EtcdStore(options);
        try
        {
            await store.StatusAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The member's status (version, database size); also proves the member answers.</summary>
    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Maintenance.StatusAsync(new StatusRequest(), call).ResponseAsync, retry: true, cancellationToken);

    /// <summary>
    /// Streams the member's whole backend database (the Maintenance Snapshot call, checksum included, as
    /// <c>etcdctl snapshot save</c> receives it) into <paramref name="destination"/>; returns the bytes written.
    /// </summary>
    public async Task<long> SnapshotAsync(Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfDisposed();
        var etcd = _connections[Volatile.Read(ref _current)];
        long written = 0;
        try
        {
            // No deadline: a large database takes as long as it takes; the caller cancels.
            using var call = etcd.Maintenance.Snapshot(new SnapshotRequest(), cancellationToken: cancellationToken);
            await foreach (var part in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await destination.WriteAsync(part.Blob.Memory, cancellationToken).ConfigureAwait(false);
                written += part.Blob.Length;
            }
        }
        catch (RpcException e) when (IsCallerCancellation(e, cancellationToken))
        {
            throw new OperationCanceledException(e.Status.Detail, e, cancellationToken);
        }
        catch (RpcException e) when (IsUnreachable(e))
        {
            throw Unavailable(e);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }

        if (written == 0)
        {
            throw new StoreUnavailableException("etcd sent an empty snapshot");
        }

        return written;
    }

    /// <summary>The cluster's members.</summary>
    public Task<MemberListResponse> MemberListAsync(CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Cluster.MemberListAsync(new MemberListRequest(), call).ResponseAsync, retry: true, cancellationToken);

    /// <summary>Adds a member with <paramref name="peerUrls"/>; it joins once it starts with the returned member list.</summary>
    public Task<MemberAddResponse> MemberAddAsync(IEnumerable<string> peerUrls, CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peerUrls } }, call).ResponseAsync, retry: false, cancellationToken);

    /// <summary>Removes the member with <paramref name="memberId"/> from the cluster.</summary>
    public Task<MemberRemoveResponse> MemberRemoveAsync(ulong memberId, CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = memberId }, call).ResponseAsync, retry: false, cancellationToken);

    public async Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken)
    {
        var response = await RangeAsync(new RangeRequest { Key = ProbeKey, CountOnly = true }, cancellationToken).ConfigureAwait(false);
        return response.Header.Revision;
    }

    public async Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var response = await RangeAsync(new RangeRequest { Key = Encode(key), Revision = revision }, cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : ToKeyValue(response.Kvs[0]);
    }

    public async Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(options);
        var (start, end) = PrefixRange(prefix);
        if (options.StartAfter is { } after && string.CompareOrdinal(after, prefix) >= 0)
        {
            // The smallest key after StartAfter is StartAfter followed by a zero byte.
            start = ByteString.CopyFrom([.. Encoding.UTF8.GetBytes(after), 0]);
        }

        var request = new RangeRequest { Key = start, RangeEnd = end, Revision = options.Revision, Limit = options.Limit };
        var response = await RangeAsync(request, cancellationToken).ConfigureAwait(false);
        var items = new KeyValue[response.Kvs.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = ToKeyValue(response.Kvs[i]);
        }

        var revision = options.Revision != 0 ? options.Revision : response.Header.Revision;
        return new ListResult(items, revision, response.More, response.Count - items.Length);
    }

    public async Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        CheckValue(key, value);
        var encoded = Encode(key);
        var request = new TxnRequest
        {
            Compare = { new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = encoded, Value = UnsafeByteOperations.UnsafeWrap(value) } } },
        };
        var response = await TxnAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            throw new KeyExistsException(key);
        }

        var revision = response.Header.Revision;
        return new KeyValue(key, value.ToArray(), revision, revision);
    }

    public async Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken)
    {
        CheckValue(key, value);
        var encoded = Encode(key);
        var request = new TxnRequest
        {
            Compare =
            {
                new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision },
                new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 },
            },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = encoded, Value = UnsafeByteOperations.UnsafeWrap(value), PrevKv = true } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = encoded } } },
        };
        var response = await TxnAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            throw Lost(key, response);
        }

        var previous = response.Responses[0].ResponsePut.PrevKv;
        return new KeyValue(key, value.ToArray(), previous.CreateRevision, response.Header.Revision);
    }

    public async Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var encoded = Encode(key);
        var guard = expectedModRevision != 0
            ? new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision }
            : new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 };
        var request = new TxnRequest
        {
            Compare = { guard },
            Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = encoded, PrevKv = true } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = encoded } } },
        };
        var response = await TxnAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            throw Lost(key, response);
        }

        var deleted = response.Responses[0].ResponseDeleteRange.PrevKvs;
        if (deleted.Count == 0)
        {
            throw new KeyNotFoundStorageException(key);
        }

        return ToKeyValue(deleted[0]) with { ModRevision = response.Header.Revision };
    }

    private static StorageException Lost(string key, TxnResponse response)
    {
        var current = response.Responses[0].ResponseRange.Kvs;
        return current.Count == 0 ? new KeyNotFoundStorageException(key) : new ConflictException(key, ToKeyValue(current[0]));
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ThrowIfDisposed();
        var (start, end) = PrefixRange(prefix);
        var etcd = _connections[Volatile.Read(ref _current)];
        using var call = etcd.Watch.Watch(cancellationToken: cancellationToken);
        var create = new WatchCreateRequest { Key = start, RangeEnd = end, StartRevision = afterRevision + 1, PrevKv = true };
        try
        {
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or RpcException)
        {
            // The caller stopped watching before the watch was set up: the same quiet end as a cancel later on.
            yield break;
        }
        catch (RpcException e) when (IsUnreachable(e))
        {
            throw Unavailable(e);
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }

        var last = afterRevision;
        while (true)
        {
            WatchResponse? response;
            try
            {
                response = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            catch (RpcException e) when (IsCallerCancellation(e, cancellationToken))
            {
                yield break;
            }
            catch (RpcException e) when (IsUnreachable(e))
            {
                throw Unavailable(e);
            }
            catch (RpcException e)
            {
                throw Translate(e);
            }

            if (response is null)
            {
                throw new StoreUnavailableException("etcd ended the watch");
            }

            if (response.CompactRevision > 0)
            {
                throw new CompactedException(last + 1, response.CompactRevision);
            }

            if (response.Canceled)
            {
                throw new StoreUnavailableException($"etcd cancelled the watch: {response.CancelReason}");
            }

            foreach (var e in response.Events)
            {
                var current = e.Kv;
                var previous = e.PrevKv is { } p && p.ModRevision > 0 ? ToKeyValue(p) : null;
                var watchEvent = e.Type == Event.Types.EventType.Delete
                    ? new WatchEvent(WatchEventType.Delete, new KeyValue(Decode(current.Key), ReadOnlyMemory<byte>.Empty, 0, current.ModRevision), previous)
                    : new WatchEvent(WatchEventType.Put, ToKeyValue(current), previous);
                last = watchEvent.Revision;
                yield return watchEvent;
            }
        }
    }

    public async Task CompactAsync(long revision, CancellationToken cancellationToken)
    {
        try
        {
            var request = new CompactionRequest { Revision = revision, Physical = true };
            await CallAsync((etcd, call) => etcd.Kv.CompactAsync(request, call).ResponseAsync, retry: false, cancellationToken, requested: revision).ConfigureAwait(false);
        }
        catch (CompactedException)
        {
            // Already compacted at or beyond this revision: nothing to do.
        }
    }

    /// <summary>
    /// etcd has no call that reports the compacted revision; reads below it fail, so the lowest
    /// readable revision is found by bisection (a rare call: logarithmic in the current revision).
    /// </summary>
    public async Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken)
    {
        var high = await GetCurrentRevisionAsync(cancellationToken).ConfigureAwait(false);
        if (await IsReadableAsync(1, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        long low = 1;
        while (high - low > 1)
        {
            var middle = low + ((high - low) / 2);
            if (await IsReadableAsync(middle, cancellationToken).ConfigureAwait(false))
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        return high;
    }

    private async Task<bool> IsReadableAsync(long revision, CancellationToken cancellationToken)
    {
        try
        {
            var request = new RangeRequest { Key = ProbeKey, Revision = revision, CountOnly = true };
            await CallAsync((etcd, call) => etcd.Kv.RangeAsync(request, call).ResponseAsync, retry: true, cancellationToken, translateCompaction: false).ConfigureAwait(false);
            return true;
        }
        catch (RpcException e) when (IsCompaction(e))
        {
            return false;
        }
    }

    private Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Kv.RangeAsync(request, call).ResponseAsync, retry: true, cancellationToken, requested: request.Revision);

    private Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        CallAsync((etcd, call) => etcd.Kv.TxnAsync(request, call).ResponseAsync, retry: false, cancellationToken);

    /// <summary>Runs a call on the current member; reads move on to the next member when one is unreachable.</summary>
    private async Task<T> CallAsync<T>(Func<EtcdConnection, CallOptions, Task<T>> call, bool retry, CancellationToken cancellationToken, long requested = 0, bool translateCompaction = true)
    {
        ThrowIfDisposed();
        var attempts = retry ? _connections.Length : 1;
        for (var attempt = 1; ; attempt++)
        {
            var index = Volatile.Read(ref _current);
            try
            {
                var options = new CallOptions(deadline: DateTime.UtcNow + _options.RequestTimeout, cancellationToken: cancellationToken);
                return await call(_connections[index], options).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsCallerCancellation(e, cancellationToken))
            {
                throw new OperationCanceledException(e.Status.Detail, e, cancellationToken);
            }
            catch (RpcException e) when (IsUnreachable(e))
            {
                // A write that may have been applied is never repeated; the next call goes elsewhere.
                Interlocked.CompareExchange(ref _current, (index + 1) % _connections.Length, index);
                if (attempt >= attempts)
                {
                    throw Unavailable(e);
                }
            }
            catch (RpcException e) when (!translateCompaction && IsCompaction(e))
            {
                throw;
            }
            catch (RpcException e) when (IsCompaction(e))
            {
                throw new CompactedException(requested, await GetCompactedRevisionAsync(CancellationToken.None).ConfigureAwait(false));
            }
            catch (RpcException e)
            {
                throw Translate(e, requested);
            }
        }
    }

    /// <summary>One line with the causes too: a TLS failure hides its reason (untrusted certificate, name mismatch) in an inner exception.</summary>
    private static string Describe(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (!messages.Contains(e.Message, StringComparer.Ordinal))
            {
                messages.Add(e.Message.ReplaceLineEndings(" "));
            }
        }

        return string.Join(": ", messages);
    }

    /// <summary>The call ended because the caller cancelled it (the library reports that as Cancelled, a deadline apart).</summary>
    private static bool IsCallerCancellation(RpcException e, CancellationToken cancellationToken) =>
        e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested;

    /// <summary>The member did not answer: no connection, a broken one (the library reports some as Internal), or the deadline.</summary>
    private static bool IsUnreachable(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded || e.InnerException is HttpRequestException or IOException;

    private static StoreUnavailableException Unavailable(RpcException e) =>
        new($"etcd is unavailable: {(e.InnerException is { } inner ? Describe(inner) : e.Status.Detail)}", e);

    private static bool IsCompaction(RpcException e) =>
        e.StatusCode == StatusCode.OutOfRange && e.Status.Detail.Contains("compacted", StringComparison.Ordinal);

    private static StorageException Translate(RpcException e, long requested = 0)
    {
        if (e.StatusCode == StatusCode.OutOfRange && e.Status.Detail.Contains("future revision", StringComparison.Ordinal))
        {
            return new FutureRevisionException(requested, 0);
        }

        if (IsCompaction(e))
        {
            return new CompactedException(requested, 0);
        }

        return new StoreUnavailableException($"etcd refused the request: {e.Status.Detail}", e);
    }

    private static void CheckValue(string key, ReadOnlyMemory<byte> value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (value.Length > IStore.MaxValueBytes)
        {
            throw new ValueTooLargeException(key, value.Length);
        }
    }

    private static ByteString Encode(string key) => ByteString.CopyFromUtf8(key);

    private static string Decode(ByteString key) => key.ToStringUtf8();

    private static KeyValue ToKeyValue(Protocol.KeyValue kv) => new(Decode(kv.Key), kv.Value.Memory, kv.CreateRevision, kv.ModRevision);

    /// <summary>[prefix, prefix-end) over UTF-8 bytes; the empty prefix means every key.</summary>
    private static (ByteString Start, ByteString End) PrefixRange(string prefix)
    {
        if (prefix.Length == 0)
        {
            return (ByteString.CopyFrom(0), ByteString.CopyFrom(0));
        }

        var bytes = Encoding.UTF8.GetBytes(prefix);
        var end = (byte[])bytes.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return (ByteString.CopyFrom(bytes), ByteString.CopyFrom(end, 0, i + 1));
            }
        }

        return (ByteString.CopyFrom(bytes), ByteString.CopyFrom(0));
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new StoreUnavailableException("the store is closed");
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }

        return ValueTask.CompletedTask;
    }
}
