using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.Client;

/// <summary>
/// Typed REST operations on one resource. <c>namespace</c> arguments are ignored for cluster-scoped
/// resources and mean "all namespaces" when null on list and watch.
/// </summary>
public sealed class ResourceClient<T>
    where T : class, IKubernetesObject, IKubernetesKind, new()
{
    /// <summary>A watch's read buffer, from the shared pool; an event larger than it grows it.</summary>
    private const int BufferBytes = 64 * 1024;

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private readonly KubernetesClient client;
    private readonly string? accept;

    /// <param name="accept">The Accept header of every request; null for the client's default (JSON).</param>
    internal ResourceClient(KubernetesClient client, ApiResource resource, string? accept = null)
    {
        this.client = client;
        Resource = resource;
        this.accept = accept;
    }

    public ApiResource Resource { get; }

    public async Task<T> GetAsync(string? @namespace, string name, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Get, Path(@namespace, name, null));
        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return KubernetesJson.Deserialize<T>(body);
        }
        catch (Exception e) when (UndecodableObject.IsDecodingFailure(e))
        {
            throw new UndecodableObjectException(UndecodableObject.From(body, T.GroupVersionKind.Kind, e), e);
        }
    }

    /// <summary>One page (or everything when <see cref="ListOptions.Limit"/> is 0).</summary>
    public async Task<ObjectList<T>> ListAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Get, Path(@namespace, null, null) + Query(options, watch: false));
        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return ReadList(body);
    }

    /// <summary>Every page of a list, following continue tokens.</summary>
    public async Task<ObjectList<T>> ListAllAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ListOptions();
        var items = new List<T>();
        var undecodable = new List<UndecodableObject>();
        var page = await ListAsync(@namespace, options, cancellationToken).ConfigureAwait(false);
        items.AddRange(page.Items);
        undecodable.AddRange(page.Undecodable);
        while (!string.IsNullOrEmpty(page.Continue))
        {
            page = await ListAsync(@namespace, options with { Continue = page.Continue, ResourceVersion = null, ResourceVersionMatch = null }, cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Items);
            undecodable.AddRange(page.Undecodable);
        }

        return new ObjectList<T>(items, page.ResourceVersion, null, null) { Undecodable = undecodable };
    }

    public async Task<T> CreateAsync(T obj, string? fieldManager = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        using var request = NewRequest(HttpMethod.Post, Path(NamespaceOf(obj), null, null) + ManagerQuery(fieldManager));
        request.Content = Body(Stamp(obj));
        return await ReadAsync<T>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PUT with the object's resourceVersion: a stale one fails with Conflict.</summary>
    public Task<T> UpdateAsync(T obj, string? fieldManager = null, CancellationToken cancellationToken = default) =>
        PutAsync(obj, null, fieldManager, cancellationToken);

    /// <summary>PUT on the status subresource.</summary>
    public Task<T> UpdateStatusAsync(T obj, string? fieldManager = null, CancellationToken cancellationToken = default) =>
        PutAsync(obj, "status", fieldManager, cancellationToken);

    public async Task<T> PatchAsync(string? @namespace, string name, PatchType type, string patch, PatchOptions? options = null, string? subresource = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var query = new StringBuilder();
        if (options?.FieldManager is { } manager)
        {
            Append(query, "fieldManager", manager);
        }
        else if (type == PatchType.Apply)
        {
            Append(query, "fieldManager", client.Options.UserAgent);
        }

        if (options?.Force == true)
        {
            Append(query, "force", "true");
        }

        using var request = NewRequest(HttpMethod.Patch, Path(@namespace, name, subresource) + query);
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(patch));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(PatchMediaType.Of(type));
        return await ReadAsync<T>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes; returns the object when the deletion is pending (finalizers, grace period), null when the
    /// server answered with a Status (gone at once).
    /// </summary>
    public async Task<T?> DeleteAsync(string? @namespace, string name, DeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Delete, Path(@namespace, name, null));
        if (options is not null)
        {
            options.ApiVersion ??= "meta.k8s.io/v1";
            options.Kind ??= "DeleteOptions";
            request.Content = Body(options);
        }

        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return JsonMember.FindString(body, "kind"u8) == "Status" ? null : KubernetesJson.Deserialize<T>(body);
    }

    /// <summary>GET of a subresource (scale → autoscaling/v1 Scale).</summary>
    public async Task<TSub> GetSubresourceAsync<TSub>(string? @namespace, string name, string subresource, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Get, Path(@namespace, name, subresource));
        return await ReadAsync<TSub>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PUT of a subresource (scale).</summary>
    public async Task<TSub> UpdateSubresourceAsync<TSub>(string? @namespace, string name, string subresource, TSub body, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Put, Path(@namespace, name, subresource));
        request.Content = Body(body);
        return await ReadAsync<TSub>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST to a subresource (binding, eviction); the answer (usually a Status) is discarded.</summary>
    public async Task CreateSubresourceAsync<TBody>(string? @namespace, string name, string subresource, TBody body, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(HttpMethod.Post, Path(@namespace, name, subresource));
        request.Content = Body(body);
        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A watch as a stream of typed events. An ERROR event ends the stream with a StatusException; 410
    /// (<see cref="StatusExceptionExtensions.IsResourceExpired"/>) means the caller must relist. Events whose
    /// object does not fit the type are left out.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string? @namespace, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var change in WatchEventsAsync(@namespace, options, cancellationToken).ConfigureAwait(false))
        {
            if (change.Undecodable is null)
            {
                yield return change;
            }
        }
    }

    /// <summary>
    /// The watch with undecodable objects as stand-ins carrying their identity (for informers). An object
    /// <paramref name="held"/> finds (by its JSON) is not decoded again: that instance stands for it.
    /// </summary>
    internal async IAsyncEnumerable<WatchEvent<T>> WatchEventsAsync(string? @namespace, ListOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken, HeldObject? held = null)
    {
        using var request = NewRequest(HttpMethod.Get, Path(@namespace, null, null) + Query(options, watch: true));
        using var response = await client.SendAsync(request, streaming: true, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // Rented once bytes are there (see the zero-byte read below), which at the start they are not.
            byte[] buffer = [];
            try
            {
                int start = 0, end = 0;
                while (true)
                {
                    var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                    if (newline >= 0)
                    {
                        var line = ParseEvent(buffer, start, newline - start, held);
                        start = newline + 1;
                        if (line is not null)
                        {
                            yield return line;
                        }

                        continue;
                    }

                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }

                    if (end > 0 && end == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, larger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    int read;
                    try
                    {
                        if (end == 0)
                        {
                            // Nothing is pending: wait for the next event with a zero-byte read and without a buffer, so
                            // that an idle watch (a server holds one per informer) keeps none of the pool's 64 kB.
                            if (buffer.Length > 0)
                            {
                                ArrayPool<byte>.Shared.Return(buffer);
                                buffer = [];
                            }

                            await stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                            buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
                        }

                        read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The server or the connection ended the watch; the caller resumes from its last resourceVersion.
                        read = 0;
                    }
                    catch (HttpRequestException) when (!cancellationToken.IsCancellationRequested)
                    {
                        read = 0;
                    }

                    if (read == 0)
                    {
                        var last = ParseEvent(buffer, start, end - start, held);
                        if (last is not null)
                        {
                            yield return last;
                        }

                        yield break;
                    }

                    end += read;
                }
            }
            finally
            {
                if (buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    internal string Path(string? @namespace, string? name, string? subresource)
    {
        var path = new StringBuilder(96);
        path.Append(Resource.Group.Length == 0 ? "/api/" : "/apis/");
        if (Resource.Group.Length > 0)
        {
            path.Append(Resource.Group).Append('/');
        }

        path.Append(Resource.Version);
        if (Resource.Namespaced && !string.IsNullOrEmpty(@namespace))
        {
            path.Append("/namespaces/").Append(Uri.EscapeDataString(@namespace));
        }

        path.Append('/').Append(Resource.Resource);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            path.Append('/').Append(Uri.EscapeDataString(name));
            if (subresource is not null)
            {
                path.Append('/').Append(subresource);
            }
        }

        return path.ToString();
    }

    internal static string Query(ListOptions? options, bool watch)
    {
        var query = new StringBuilder();
        if (watch)
        {
            Append(query, "watch", "true");
        }

        if (options is null)
        {
            return query.ToString();
        }

        if (!string.IsNullOrEmpty(options.LabelSelector))
        {
            Append(query, "labelSelector", options.LabelSelector);
        }

        if (!string.IsNullOrEmpty(options.FieldSelector))
        {
            Append(query, "fieldSelector", options.FieldSelector);
        }

        if (options.Limit > 0)
        {
            Append(query, "limit", options.Limit.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(options.Continue))
        {
            Append(query, "continue", options.Continue);
        }

        if (options.ResourceVersion is not null)
        {
            Append(query, "resourceVersion", options.ResourceVersion);
        }

        if (!string.IsNullOrEmpty(options.ResourceVersionMatch))
        {
            Append(query, "resourceVersionMatch", options.ResourceVersionMatch);
        }

        if (options.TimeoutSeconds is { } timeout)
        {
            Append(query, "timeoutSeconds", timeout.ToString(CultureInfo.InvariantCulture));
        }

        if (options.AllowWatchBookmarks)
        {
            Append(query, "allowWatchBookmarks", "true");
        }

        if (options.SendInitialEvents is { } initial)
        {
            Append(query, "sendInitialEvents", initial ? "true" : "false");
        }

        return query.ToString();
    }

    internal static ObjectList<T> ReadList(ReadOnlySpan<byte> json)
    {
        // Taken at the first item: an empty list (most kinds, when a process starts) builds no metadata for its kind.
        JsonTypeInfo<T>? info = null;
        var reader = new Utf8JsonReader(json);
        var items = new List<T>();
        List<UndecodableObject>? undecodable = null;
        ListMeta? meta = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a list must be a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                meta = JsonSerializer.Deserialize(ref reader, KubernetesJson.TypeInfo<ListMeta>());
            }
            else if (reader.ValueTextEquals("items"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        // The reader is a struct: a copy taken before the item lets one bad item be skipped whole.
                        var itemStart = reader;
                        try
                        {
                            items.Add(JsonSerializer.Deserialize(ref reader, info ??= KubernetesJson.ReadTypeInfo<T>())!);
                        }
                        catch (Exception e) when (UndecodableObject.IsDecodingFailure(e))
                        {
                            reader = itemStart;
                            var start = (int)reader.TokenStartIndex;
                            reader.Skip();
                            (undecodable ??= []).Add(UndecodableObject.From(json[start..(int)reader.BytesConsumed], T.GroupVersionKind.Kind, e));
                        }
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ObjectList<T>(items, meta?.ResourceVersion ?? "", meta?.Continue, meta?.RemainingItemCount) { Undecodable = undecodable ?? [] };
    }

    /// <summary>An instance already held for the object whose JSON this is, or null to decode it.</summary>
    internal delegate T? HeldObject(ReadOnlySpan<byte> json);

    /// <summary>
    /// A bookmark's object: an empty object of the kind with the bookmark's metadata (its resourceVersion and the
    /// initial-events-end annotation are all it carries). Read through the kind's JSON metadata instead, the first
    /// bookmark of every watched kind would build that metadata, the kind's whole type graph, objects or not.
    /// </summary>
    private static T ReadBookmark(ReadOnlySpan<byte> obj)
    {
        var reader = new Utf8JsonReader(obj);
        reader.Read();
        var bookmark = new T();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var metadata = reader.ValueTextEquals("metadata"u8);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (metadata && reader.TokenType == JsonTokenType.EndObject)
            {
                bookmark.Metadata = KubernetesJson.Deserialize<ObjectMeta>(obj[start..(int)reader.BytesConsumed]);
            }
        }

        bookmark.ApiVersion = T.GroupVersionKind.ApiVersion;
        bookmark.Kind = T.GroupVersionKind.Kind;
        return bookmark;
    }

    internal static WatchEvent<T>? ParseEvent(byte[] buffer, int offset, int count, HeldObject? held = null)
    {
        var span = buffer.AsSpan(offset, count);
        if (span.Trim(" \r\t"u8).IsEmpty)
        {
            return null;
        }

        var reader = new Utf8JsonReader(span);
        string? type = null;
        int objectStart = -1, objectEnd = -1;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetString();
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                objectStart = (int)reader.TokenStartIndex;
                reader.Skip();
                objectEnd = (int)reader.BytesConsumed;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (objectStart < 0)
        {
            throw new JsonException("watch event without object");
        }

        var obj = span[objectStart..objectEnd];
        var eventType = type switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => throw KubernetesJson.ToException(500, obj),
            _ => throw new JsonException($"unknown watch event type {type}"),
        };
        if (eventType is WatchEventType.Bookmark)
        {
            return new WatchEvent<T>(eventType, ReadBookmark(obj));
        }

        if (held?.Invoke(obj) is { } known)
        {
            return new WatchEvent<T>(eventType, known) { Held = true };
        }

        try
        {
            return new WatchEvent<T>(eventType, KubernetesJson.Deserialize<T>(obj));
        }
        catch (Exception e) when (UndecodableObject.IsDecodingFailure(e))
        {
            var undecodable = UndecodableObject.From(obj, T.GroupVersionKind.Kind, e);
            return new WatchEvent<T>(eventType, undecodable.StandIn<T>()) { Undecodable = undecodable };
        }
    }

    private async Task<T> PutAsync(T obj, string? subresource, string? fieldManager, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var name = obj.Metadata?.Name ?? throw new ArgumentException("metadata.name is required", nameof(obj));
        using var request = NewRequest(HttpMethod.Put, Path(NamespaceOf(obj), name, subresource) + ManagerQuery(fieldManager));
        request.Content = Body(Stamp(obj));
        return await ReadAsync<T>(request, cancellationToken).ConfigureAwait(false);
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return request;
    }

    private async Task<TResult> ReadAsync<TResult>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return KubernetesJson.Deserialize<TResult>(body);
    }

    private string? NamespaceOf(T obj) =>
        Resource.Namespaced ? obj.Metadata?.Namespace is { Length: > 0 } ns ? ns : "default" : null;

    private static T Stamp(T obj)
    {
        var gvk = T.GroupVersionKind;
        obj.ApiVersion ??= gvk.ApiVersion;
        obj.Kind ??= gvk.Kind;
        return obj;
    }

    private static ByteArrayContent Body<TBody>(TBody body)
    {
        var content = new ByteArrayContent(KubernetesJson.Serialize(body));
        content.Headers.ContentType = JsonContentType;
        return content;
    }

    private static string ManagerQuery(string? fieldManager) =>
        fieldManager is null ? "" : "?fieldManager=" + Uri.EscapeDataString(fieldManager);

    private static void Append(StringBuilder query, string key, string value) =>
        query.Append(query.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
}
