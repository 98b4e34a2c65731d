using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.HttpStreams;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// pods/log, pods/exec, pods/attach and pods/portforward: the pod's node agent answers. Logs are streamed back
/// as they arrive; streaming upgrades (SPDY, WebSocket) are passed to the agent, which passes them to the
/// runtime's streaming server, and after its 101 the client's connection is joined to it byte for byte.
/// </summary>
internal sealed class PodConnections(ResourceRegistry registry, KubeletClient kubelets)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] LogParameters = ["follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes"];

    public static bool Handles(ResourceRequest request) =>
        request.Resource.GroupResource == "pods" && request.Name is not null && request.Namespace is not null
        && request.Subresource is "log" or "exec" or "attach" or "portforward";

    public Task HandleAsync(HttpContext context, ResourceRequest request)
    {
        var method = context.Request.Method;
        if (request.Subresource == "log" ? !HttpMethods.IsGet(method) : !(HttpMethods.IsGet(method) || HttpMethods.IsPost(method)))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        return request.Subresource == "log" ? LogAsync(context, request) : StreamAsync(context, request);
    }

    private async Task LogAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var pod = GetPod(request);
        var container = ResolveContainer(pod, query["container"]);
        foreach (var name in (string[])["sinceSeconds", "tailLines", "limitBytes"])
        {
            if (query[name] is { Count: > 0 } value && (!long.TryParse(value[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) || number < (name == "tailLines" ? 0 : 1)))
            {
                throw InvalidLogOptions(pod.Name, name, value[0]!, name == "tailLines" ? "must be greater than or equal to 0" : "must be greater than 0");
            }
        }

        if (query.ContainsKey("sinceSeconds") && query.ContainsKey("sinceTime"))
        {
            throw InvalidLogOptions(pod.Name, "sinceSeconds", query["sinceSeconds"]!, "at most one of `sinceTime` or `sinceSeconds` may be specified");
        }

        var target = new StringBuilder($"/containerLogs/{Uri.EscapeDataString(pod.Namespace)}/{Uri.EscapeDataString(pod.Name)}/{Uri.EscapeDataString(container)}");
        var separator = '?';
        foreach (var name in LogParameters)
        {
            foreach (var value in query[name])
            {
                target.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value ?? string.Empty));
                separator = '&';
            }
        }

        var cancellationToken = context.RequestAborted;
        HttpResponseMessage response;
        try
        {
            response = await kubelets.GetAsync(new Uri(NodeEndpoint(pod), target.ToString()), cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(pod, e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw FromAgent((int)response.StatusCode, text);
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "text/plain";
            await context.Response.StartAsync(cancellationToken).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                // The agent went away mid-stream: the log ends there.
            }
        }
    }

    private async Task StreamAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var pod = GetPod(request);
        var subresource = request.Subresource!;
        string path;
        if (subresource == "portforward")
        {
            path = $"/portForward/{Uri.EscapeDataString(pod.Namespace)}/{Uri.EscapeDataString(pod.Name)}";
        }
        else
        {
            var container = ResolveContainer(pod, query["container"]);
            var phase = Text(pod.Root, "status", "phase");
            if (phase is "Succeeded" or "Failed")
            {
                throw StatusError.BadRequest($"cannot {(subresource == "exec" ? "exec into" : "attach to")} a container in a completed pod; current phase is {phase}");
            }

            if (subresource == "exec" && query["command"].Count == 0)
            {
                throw StatusError.BadRequest("you must specify at least 1 command");
            }

            if (!(IsTrue(query["stdin"]) || IsTrue(query["stdout"]) || IsTrue(query["stderr"])))
            {
                throw StatusError.BadRequest("you must specify at least one of stdin, stdout, stderr");
            }

            path = $"/{subresource}/{Uri.EscapeDataString(pod.Namespace)}/{Uri.EscapeDataString(pod.Name)}/{Uri.EscapeDataString(container)}";
        }

        await registry.AdmitAsync(Admission.AdmissionOperation.Connect, request.Resource, subresource, request.Namespace, request.Name!, ConnectOptions(subresource, query), false, ResourceEndpoint.Admission(context), context.RequestAborted).ConfigureAwait(false);
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true })
        {
            throw StatusError.BadRequest("Upgrade request required");
        }

        var target = new Uri(NodeEndpoint(pod), path + context.Request.QueryString.Value);
        var headers = UpgradeHeaders.Forwarded(context.Request.Headers.Select(h => new KeyValuePair<string, IEnumerable<string>>(h.Key, h.Value.Select(v => v ?? string.Empty))));
        string? answeredProtocol = null;
        var tunnel = false;
        if (WebSocketStreaming.IsWebSocket(context.Request))
        {
            var offered = WebSocketStreaming.OfferedProtocols(context.Request);
            if (subresource == "portforward" && offered.Contains(WebSocketStreaming.PortForwardTunnelProtocol))
            {
                tunnel = true;
                answeredProtocol = WebSocketStreaming.PortForwardTunnelProtocol;
                headers = WebSocketStreaming.TunnelBackendHeaders(context.Request);
            }
            else if (subresource != "portforward" && offered.Contains(WebSocketStreaming.ChannelV5Protocol))
            {
                var passed = WebSocketStreaming.ChannelOfferForRuntime(offered, IsTrue(query["stdin"]));
                if (passed.Count == 0)
                {
                    throw StatusError.BadRequest($"unable to upgrade: {WebSocketStreaming.ChannelV5Protocol} with stdin is not served; offer {WebSocketStreaming.ChannelV4Protocol} or use SPDY");
                }

                // v5 is taken when it was preferred to everything the runtime is offered in its place.
                var v5Index = offered.IndexOf(WebSocketStreaming.ChannelV5Protocol);
                var v4Index = offered.IndexOf(WebSocketStreaming.ChannelV4Protocol);
                answeredProtocol = IsTrue(query["stdin"]) || (v4Index >= 0 && v4Index < v5Index) ? null : WebSocketStreaming.ChannelV5Protocol;
                headers = WebSocketStreaming.WithProtocols(headers, passed);
            }
        }

        UpgradeResponse backend;
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            handshake.CancelAfter(HandshakeTimeout);
            try
            {
                backend = await kubelets.UpgradeAsync(target, context.Request.Method, headers, handshake.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException
                                      || (e is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
            {
                throw Unreachable(pod, e);
            }
        }

        await using (backend.ConfigureAwait(false))
        {
            if (!backend.Upgraded)
            {
                // Refused upgrades (a protocol the runtime does not speak, a stopped container) answer as a Status,
                // which lets clients that offered WebSocket fall back to SPDY.
                var body = await backend.ReadBodyAsync(64 * 1024, context.RequestAborted).ConfigureAwait(false);
                var message = Encoding.UTF8.GetString(body).Trim();
                throw FromAgent(backend.StatusCode, message.Length > 0 ? message : backend.ReasonPhrase);
            }

            if (tunnel)
            {
                WebSocketStreaming.AcceptHeaders(context, answeredProtocol!);
            }
            else
            {
                foreach (var (name, value) in backend.Headers)
                {
                    if (UpgradeHeaders.IsRelayedResponseHeader(name))
                    {
                        context.Response.Headers.Append(name, value);
                    }
                }

                if (answeredProtocol is not null && backend.Header("Sec-WebSocket-Protocol") == WebSocketStreaming.ChannelV4Protocol)
                {
                    // The runtime speaks v4, whose frames are v5's without CLOSE, which a client without stdin never sends.
                    context.Response.Headers["Sec-WebSocket-Protocol"] = answeredProtocol;
                }
            }

            var client = await upgrade.UpgradeAsync().ConfigureAwait(false);
            await using (client.ConfigureAwait(false))
            {
                if (tunnel)
                {
                    await WebSocketStreaming.TunnelAsync(client, backend.Stream, context.RequestAborted).ConfigureAwait(false);
                }
                else
                {
                    await StreamSplice.RunAsync(client, backend.Stream, context.RequestAborted).ConfigureAwait(false);
                }
            }
        }
    }

    private CachedObject GetPod(ResourceRequest request) =>
        registry.Get(request.Resource, request.Namespace, request.Name!) ?? throw StatusError.NotFound("pods", string.Empty, request.Name!);

    private Uri NodeEndpoint(CachedObject pod)
    {
        var nodeName = Text(pod.Root, "spec", "nodeName");
        if (string.IsNullOrEmpty(nodeName))
        {
            throw StatusError.BadRequest($"pod {pod.Name} does not have a host assigned");
        }

        var nodes = registry.FindByGroupResource("nodes") ?? throw StatusError.NotFound("nodes", string.Empty, nodeName);
        var node = registry.Get(nodes, null, nodeName) ?? throw StatusError.NotFound("nodes", string.Empty, nodeName);
        return KubeletClient.EndpointOf(node) ?? throw new StatusError(503, "ServiceUnavailable", $"node {nodeName} publishes no agent endpoint");
    }

    /// <summary>The container a request means: the one named, or the only one; upstream's messages otherwise.</summary>
    /// <summary>The PodExecOptions, PodAttachOptions or PodPortForwardOptions a connection's query string stands for.</summary>
    private static System.Text.Json.Nodes.JsonObject ConnectOptions(string subresource, IQueryCollection query)
    {
        var options = new System.Text.Json.Nodes.JsonObject
        {
            ["kind"] = subresource switch { "exec" => "PodExecOptions", "attach" => "PodAttachOptions", _ => "PodPortForwardOptions" },
            ["apiVersion"] = "v1",
        };
        if (subresource == "portforward")
        {
            options["ports"] = new System.Text.Json.Nodes.JsonArray(query["ports"].SelectMany(p => (p ?? string.Empty).Split(','))
                .Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ? (System.Text.Json.Nodes.JsonNode?)port : null)
                .Where(p => p is not null).ToArray());
            return options;
        }

        foreach (var flag in new[] { "stdin", "stdout", "stderr", "tty" })
        {
            if (IsTrue(query[flag]))
            {
                options[flag] = true;
            }
        }

        if ((string?)query["container"] is { Length: > 0 } container)
        {
            options["container"] = container;
        }

        if (subresource == "exec")
        {
            options["command"] = new System.Text.Json.Nodes.JsonArray(query["command"].Select(c => (System.Text.Json.Nodes.JsonNode?)c).ToArray());
        }

        return options;
    }

    public static string ResolveContainer(CachedObject pod, Microsoft.Extensions.Primitives.StringValues requested)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Root.TryGetProperty("spec", out var s) ? s : default;
        var containers = Names(spec, "containers");
        var name = requested.Count > 0 ? requested[0] : null;
        if (string.IsNullOrEmpty(name))
        {
            if (containers.Count == 1)
            {
                return containers[0];
            }

            var init = Names(spec, "initContainers");
            var message = $"a container name must be specified for pod {pod.Name}, choose one of: [{string.Join(' ', containers)}]";
            if (init.Count > 0)
            {
                message += $" or one of the init containers: [{string.Join(' ', init)}]";
            }

            throw StatusError.BadRequest(message);
        }

        if (containers.Contains(name) || Names(spec, "initContainers").Contains(name) || Names(spec, "ephemeralContainers").Contains(name))
        {
            return name;
        }

        throw StatusError.BadRequest($"container {name} is not valid for pod {pod.Name}");
    }

    private static List<string> Names(JsonElement spec, string field)
    {
        var names = new List<string>();
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (item.TryGetProperty("name", out var n) && n.GetString() is { } name)
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    private static string? Text(JsonElement root, string first, string second) =>
        root.TryGetProperty(first, out var a) && a.ValueKind == JsonValueKind.Object && a.TryGetProperty(second, out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.Count > 0 && value[0] is "true" or "True" or "TRUE" or "t" or "T" or "1";

    private static StatusError InvalidLogOptions(string pod, string field, string value, string detail) =>
        StatusError.Invalid("PodLogOptions", string.Empty, pod, [new StatusCause("FieldValueInvalid", $"Invalid value: {JsonValue.Create(value)!.ToJsonString()}: {detail}", field)]);

    /// <summary>The agent's own refusals are the client's problem (bad container, not running); its authentication failing is ours.</summary>
    private static StatusError FromAgent(int code, string message) => code switch
    {
        404 => new StatusError(404, "NotFound", message),
        >= 400 and < 500 and not 401 => StatusError.BadRequest(message),
        _ => new StatusError(503, "ServiceUnavailable", $"the node agent answered {code}: {message}"),
    };

    private static StatusError Unreachable(CachedObject pod, Exception e) =>
        new(503, "ServiceUnavailable", $"the node agent of pod {pod.Name} cannot be reached: {e.Message}");
}
