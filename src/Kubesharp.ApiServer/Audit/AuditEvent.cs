using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Audit;

/// <summary>
/// One request's audit.k8s.io/v1 Event, written once per stage the policy keeps: what was asked, by whom (and as whom),
/// from where, the authorization decision, the answer and, by level, the request and response bodies.
/// </summary>
internal sealed class AuditEvent(
    AuditLogWriter writer,
    TimeProvider time,
    AuditRequirement requirement,
    string auditId,
    string requestUri,
    RequestInfo info,
    UserInfo user,
    IReadOnlyList<string> sourceIps,
    string userAgent,
    DateTimeOffset received)
{
    private readonly Dictionary<string, string> _annotations = new(StringComparer.Ordinal);
    private UserInfo? _impersonated;
    private int _code;
    private string? _reason;
    private string? _message;
    private bool _finished;

    public AuditLevel Level => requirement.Level;

    internal CapturingStream? RequestBody { get; set; }

    internal CapturingStream? ResponseBody { get; set; }

    /// <summary>The user the request acts as, when it impersonates one.</summary>
    public void Impersonated(UserInfo acting)
    {
        if (!ReferenceEquals(acting, user))
        {
            _impersonated = acting;
        }
    }

    /// <summary>Where the request's event is kept in <c>HttpContext.Items</c>, for admission's annotations.</summary>
    public const string ItemKey = "kubesharp.audit-event";

    public void Annotate(string key, string value) => _annotations[key] = value;

    /// <summary>An annotation from admission: the first value of a key stays, as upstream's audit context keeps it.</summary>
    public void AnnotateOnce(string key, string value)
    {
        // Validating webhooks are called in parallel, each may annotate.
        lock (_annotations)
        {
            _annotations.TryAdd(key, value);
        }
    }

    /// <summary>The Status the request failed with (upstream copies its code, reason and message into responseStatus).</summary>
    public void Failed(int code, string reason, string message)
    {
        _code = code;
        _reason = reason;
        _message = message;
    }

    /// <summary>The ResponseComplete stage, or Panic for a failure nobody expected.</summary>
    public async ValueTask FinishAsync(int statusCode, bool panic, CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        await WriteAsync(panic ? AuditStage.Panic : AuditStage.ResponseComplete, statusCode, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask WriteAsync(AuditStage stage, int statusCode, CancellationToken cancellationToken)
    {
        if (requirement.OmitStages.Contains(stage))
        {
            return ValueTask.CompletedTask;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            WriteEvent(json, stage, statusCode);
        }

        buffer.Write("\n"u8);
        return writer.WriteAsync(buffer.WrittenSpan.ToArray(), cancellationToken);
    }

    private void WriteEvent(Utf8JsonWriter json, AuditStage stage, int statusCode)
    {
        json.WriteStartObject();
        json.WriteString("kind", "Event");
        json.WriteString("apiVersion", AuditPolicy.ApiVersion);
        json.WriteString("level", requirement.Level.ToString());
        json.WriteString("auditID", auditId);
        json.WriteString("stage", stage.ToString());
        json.WriteString("requestURI", requestUri);
        json.WriteString("verb", info.Verb);
        json.WritePropertyName("user");
        WriteUser(json, user);
        if (_impersonated is not null)
        {
            json.WritePropertyName("impersonatedUser");
            WriteUser(json, _impersonated);
        }

        json.WriteStartArray("sourceIPs");
        foreach (var ip in sourceIps)
        {
            json.WriteStringValue(ip);
        }

        json.WriteEndArray();
        if (userAgent.Length > 0)
        {
            json.WriteString("userAgent", userAgent);
        }

        if (info.IsResourceRequest)
        {
            WriteObjectRef(json);
        }

        if (stage != AuditStage.RequestReceived)
        {
            var code = _code != 0 ? _code : statusCode;
            json.WriteStartObject("responseStatus");
            json.WriteStartObject("metadata");
            json.WriteEndObject();
            if (code >= 400)
            {
                json.WriteString("status", "Failure");
                if (_message is not null)
                {
                    json.WriteString("message", _message);
                }

                if (!string.IsNullOrEmpty(_reason))
                {
                    json.WriteString("reason", _reason);
                }
            }

            json.WriteNumber("code", code);
            json.WriteEndObject();
            if (requirement.Level >= AuditLevel.Request && RequestBody is { Truncated: false } request && Parse(request.Captured) is { } requestObject)
            {
                json.WritePropertyName("requestObject");
                requestObject.WriteTo(json);
            }

            if (stage == AuditStage.ResponseComplete && requirement.Level == AuditLevel.RequestResponse && ResponseBody is { Truncated: false } response && Parse(response.Captured) is { } responseObject)
            {
                json.WritePropertyName("responseObject");
                responseObject.WriteTo(json);
            }
        }

        json.WriteString("requestReceivedTimestamp", MicroTime(received));
        json.WriteString("stageTimestamp", MicroTime(stage == AuditStage.RequestReceived ? received : time.GetUtcNow()));
        if (_annotations.Count > 0 && stage != AuditStage.RequestReceived)
        {
            json.WriteStartObject("annotations");
            foreach (var (key, value) in _annotations)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private void WriteObjectRef(Utf8JsonWriter json)
    {
        json.WriteStartObject("objectRef");
        if (info.Resource.Length > 0)
        {
            json.WriteString("resource", info.Resource);
        }

        if (info.Namespace.Length > 0)
        {
            json.WriteString("namespace", info.Namespace);
        }

        if (info.Name.Length > 0)
        {
            json.WriteString("name", info.Name);
        }

        if (info.ApiGroup.Length > 0)
        {
            json.WriteString("apiGroup", info.ApiGroup);
        }

        if (ApiVersionOf(info.Path) is { } version)
        {
            json.WriteString("apiVersion", version);
        }

        if (info.Subresource.Length > 0)
        {
            json.WriteString("subresource", info.Subresource);
        }

        json.WriteEndObject();
    }

    private static void WriteUser(Utf8JsonWriter json, UserInfo who)
    {
        json.WriteStartObject();
        json.WriteString("username", who.Name);
        if (who.Uid.Length > 0)
        {
            json.WriteString("uid", who.Uid);
        }

        json.WriteStartArray("groups");
        foreach (var group in who.Groups)
        {
            json.WriteStringValue(group);
        }

        json.WriteEndArray();
        if (who.Extra.Count > 0)
        {
            json.WriteStartObject("extra");
            foreach (var (key, values) in who.Extra)
            {
                json.WriteStartArray(key);
                foreach (var value in values)
                {
                    json.WriteStringValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>The body as JSON (without managedFields when the policy says so); null when it is not JSON.</summary>
    private JsonNode? Parse(ReadOnlyMemory<byte> body)
    {
        if (body.Span.StartsWith("k8s\0"u8))
        {
            // Typed clients (kubectl among them) send protobuf: the event shows the object they sent, as upstream's does.
            try
            {
                return Http.ProtobufBody.ToJsonObject(body.Span);
            }
            catch (Http.StatusError)
            {
                return null;
            }
        }

        if (body.Length == 0 || body.Span[0] is not ((byte)'{' or (byte)'['))
        {
            return null;
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body.Span);
        }
        catch (JsonException)
        {
            return null;
        }

        if (requirement.OmitManagedFields && node is JsonObject root)
        {
            (root["metadata"] as JsonObject)?.Remove("managedFields");
            foreach (var item in root["items"] as JsonArray ?? [])
            {
                (item?["metadata"] as JsonObject)?.Remove("managedFields");
            }
        }

        return node;
    }

    /// <summary>v1 of /api/v1/..., VERSION of /apis/GROUP/VERSION/...</summary>
    private static string? ApiVersionOf(string path)
    {
        var segments = path.Split('/', 5, StringSplitOptions.RemoveEmptyEntries);
        return segments switch
        {
            ["api", var version, ..] => version,
            ["apis", _, var version, ..] => version,
            _ => null,
        };
    }

    /// <summary>RFC 3339 with microseconds, as metav1.MicroTime is written.</summary>
    private static string MicroTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
