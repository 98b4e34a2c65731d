using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kubesharp.ApiServer.Http;

/// <summary>Watches: a chunked stream of {"type":…,"object":…} lines from the watch cache.</summary>
internal sealed partial class ResourceEndpoint
{
    private const string InitialEventsEndAnnotation = "k8s.io/initial-events-end";

    /// <summary>
    /// A named watch (/watch/namespaces/NS/pods/NAME) selects metadata.name=NAME; a field selector of its own must
    /// select the same name, as upstream requires.
    /// </summary>
    private static string? WatchFieldSelector(ResourceRequest request, string? fieldSelector)
    {
        if (request.Name is not { } name)
        {
            return fieldSelector;
        }

        if (string.IsNullOrWhiteSpace(fieldSelector))
        {
            return "metadata.name=" + name;
        }

        var selected = fieldSelector.Split(',').Select(term => term.Trim()).FirstOrDefault(term => term.StartsWith("metadata.name=", StringComparison.Ordinal));
        var value = selected?["metadata.name=".Length..].TrimStart('=');
        if (value != name)
        {
            throw StatusError.BadRequest("fieldSelector metadata.name doesn't match requested name");
        }

        return fieldSelector;
    }

    private async Task WatchAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var resource = request.Resource;
        var definition = registry.DefinitionOf(resource);
        var filter = ObjectFilter.Parse(definition.SelectableFields, request.Namespace, query["labelSelector"], WatchFieldSelector(request, query["fieldSelector"]));
        var resourceVersion = (string?)query["resourceVersion"];
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var sendInitialEvents = query["sendInitialEvents"].Count > 0 ? IsTrue(query["sendInitialEvents"]) : (bool?)null;
        if (sendInitialEvents is not null && (string?)query["resourceVersionMatch"] != "NotOlderThan")
        {
            throw StatusError.Invalid("ListOptions", "meta.k8s.io", string.Empty,
                [new StatusCause("FieldValueForbidden", "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and resourceVersionMatch is set to NotOlderThan", "sendInitialEvents")]);
        }

        var timeoutSeconds = ParseLong(query["timeoutSeconds"], "timeoutSeconds") ?? 1800 + Random.Shared.Next(1800);
        var form = MediaTypes.Negotiate(context.Request);
        var specificVersion = resourceVersion is { Length: > 0 } and not "0";
        var initial = sendInitialEvents ?? !specificVersion;
        long after = 0;
        if (specificVersion)
        {
            after = ParseRevision(resourceVersion!);
            await WaitForCacheAsync(after, context.RequestAborted).ConfigureAwait(false);
        }

        if (initial)
        {
            ThrowIfUnreadableUnder(resource, KeyPrefix(request));
        }

        var cache = registry.Cache.For(resource);
        using var subscription = cache.Subscribe(initial ? long.MaxValue : after, registry.Cache.Revision, bookmarks, out var backlog, out var snapshot, out var snapshotRevision, CacheNamespace(request));
        if (initial && specificVersion && snapshotRevision < after)
        {
            snapshotRevision = after;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = form == ResponseForm.Table ? MediaTypes.TableContentType : JsonResponses.Json;
        context.Response.Headers.CacheControl = "no-cache, private";
        var stream = new WatchStream(context, resource, definition, form);
        if (subscription is null)
        {
            var oldest = cache.HistoryStartRevision;
            var gone = new StatusError(410, "Expired", $"too old resource version: {after} ({oldest})");
            await stream.WriteAsync("ERROR", gone.ToStatus()).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            return;
        }

        // A watch ends when the server stops, as upstream closes watches at shutdown: otherwise every agent's watch would
        // hold the stop until the host's shutdown timeout.
        var stopping = context.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, timeoutSeconds)));
        try
        {
            await context.Response.StartAsync(timeout.Token).ConfigureAwait(false);
            if (initial)
            {
                foreach (var obj in snapshot.Values)
                {
                    if (filter.Matches(obj))
                    {
                        await stream.WriteAsync("ADDED", obj).ConfigureAwait(false);
                    }
                }

                if (sendInitialEvents == true && bookmarks)
                {
                    await stream.WriteBookmarkAsync(snapshotRevision, initialEventsEnd: true).ConfigureAwait(false);
                }
            }

            foreach (var change in backlog)
            {
                await WriteChangeAsync(stream, change, filter).ConfigureAwait(false);
            }

            await stream.FlushAsync().ConfigureAwait(false);
            var reader = subscription.Channel.Reader;
            while (await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var change))
                {
                    await WriteChangeAsync(stream, change, filter).ConfigureAwait(false);
                }

                await stream.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout or client gone: the watch simply ends.
        }
        catch (StatusError error)
        {
            // An object this version cannot be served in (a failed conversion webhook): the watch ends with the error.
            await stream.WriteAsync("ERROR", error.ToStatus()).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
        }
    }

    private static async Task WriteChangeAsync(WatchStream stream, CacheEvent change, ObjectFilter filter)
    {
        switch (change.Type)
        {
            case CacheEventType.Bookmark:
                await stream.WriteBookmarkAsync(change.Revision, initialEventsEnd: false).ConfigureAwait(false);
                return;
            case CacheEventType.Added:
                if (filter.Matches(change.Object!))
                {
                    await stream.WriteAsync("ADDED", change.Object!).ConfigureAwait(false);
                }

                return;
            case CacheEventType.Deleted:
                if (filter.Matches(change.Object!))
                {
                    await stream.WriteAsync("DELETED", change.Object!).ConfigureAwait(false);
                }

                return;
            default:
                var now = filter.Matches(change.Object!);
                var before = change.Previous is not null && filter.Matches(change.Previous);
                if (now && before)
                {
                    await stream.WriteAsync("MODIFIED", change.Object!).ConfigureAwait(false);
                }
                else if (now)
                {
                    await stream.WriteAsync("ADDED", change.Object!).ConfigureAwait(false);
                }
                else if (before)
                {
                    await stream.WriteAsync("DELETED", change.Object!).ConfigureAwait(false);
                }

                return;
        }
    }

    /// <summary>
    /// Encodes watch events into the response body, one JSON document per line. Events are encoded straight into
    /// the response's pipe, whose pooled blocks go back once flushed: an idle watch holds no buffer of its own.
    /// </summary>
    private sealed class WatchStream(HttpContext context, ApiResource resource, ResourceDefinition definition, ResponseForm form)
    {
        private readonly System.IO.Pipelines.PipeWriter _buffer = context.Response.BodyWriter;
        private long _unflushed;
        private bool _columnsSent;
        private TableRows? _table;

        public async Task WriteAsync(string type, CachedObject obj)
        {
            obj = await definition.PresentAsync(obj, context.RequestAborted).ConfigureAwait(false);
            if (Write(type, obj))
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }

        /// <summary>Encodes one event; true when enough is buffered to flush.</summary>
        private bool Write(string type, CachedObject obj)
        {
            using var writer = new Utf8JsonWriter(_buffer, WriterOptions);
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WritePropertyName("object");
            switch (form)
            {
                case ResponseForm.Table:
                    (_table ??= TableRows.For(context, definition)).WriteTable(writer, [obj], obj.Revision, withColumns: !_columnsSent);
                    _columnsSent = true;
                    break;
                case ResponseForm.PartialObjectMetadata:
                    ListStreamWriter.WritePartialMetadata(writer, obj);
                    break;
                default:
                    writer.WriteRawValue(obj.Json, skipInputValidation: true);
                    break;
            }

            writer.WriteEndObject();
            writer.Flush();
            _buffer.Write("\n"u8);
            _unflushed += writer.BytesCommitted + 1;
            return _unflushed > 32 * 1024;
        }

        public Task WriteAsync(string type, JsonObject obj)
        {
            using var writer = new Utf8JsonWriter(_buffer, WriterOptions);
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WritePropertyName("object");
            obj.WriteTo(writer);
            writer.WriteEndObject();
            writer.Flush();
            _buffer.Write("\n"u8);
            _unflushed += writer.BytesCommitted + 1;
            return Task.CompletedTask;
        }

        public Task WriteBookmarkAsync(long revision, bool initialEventsEnd)
        {
            var metadata = new JsonObject
            {
                ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture),
                ["creationTimestamp"] = null,
            };
            if (initialEventsEnd)
            {
                metadata["annotations"] = new JsonObject { [InitialEventsEndAnnotation] = "true" };
            }

            var bookmark = form == ResponseForm.Table
                ? new JsonObject { ["kind"] = "Table", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = new JsonObject { ["resourceVersion"] = metadata["resourceVersion"]!.DeepClone() }, ["columnDefinitions"] = null, ["rows"] = null }
                : new JsonObject { ["kind"] = resource.Kind, ["apiVersion"] = resource.ApiVersion, ["metadata"] = metadata };
            return WriteAsync("BOOKMARK", bookmark);
        }

        public async Task FlushAsync()
        {
            _unflushed = 0;
            await _buffer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }
}
