using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Pods;
using Kubesharp.Kubelet.Stats;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using CriContainerState = Kubesharp.Cri.V1.ContainerState;

namespace Kubesharp.Kubelet.Streaming;

/// <summary>
/// The agent's HTTPS endpoint, which the API server proxies pods/log, exec, attach and portforward to: /healthz,
/// /pods, /containerLogs/NAMESPACE/POD/CONTAINER (follow, previous, tailLines, sinceSeconds, sinceTime, timestamps,
/// limitBytes), /exec/NAMESPACE/POD/CONTAINER and /attach/NAMESPACE/POD/CONTAINER (command, stdin, stdout, stderr,
/// tty), /portForward/NAMESPACE/POD and /stats/summary. Streaming requests are upgrades that the runtime's streaming
/// server answers; this endpoint passes the connection through unchanged. Callers authenticate with a client
/// certificate of the cluster CA or the agent's token.
/// </summary>
internal sealed partial class KubeletServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly PodSyncer pods;
    private readonly IRuntimeService runtime;
    private readonly X509Certificate2Collection? clientCa;
    private readonly string? token;
    private readonly TimeProvider time;
    private readonly SummaryProvider summary;

    private KubeletServer(WebApplication app, PodSyncer pods, IRuntimeService runtime, X509Certificate2Collection? clientCa, string? token, SummaryProvider summary, TimeProvider time)
    {
        this.summary = summary;
        this.app = app;
        this.pods = pods;
        this.runtime = runtime;
        this.clientCa = clientCa;
        this.token = token;
        this.time = time;
    }

    public int Port { get; private set; }

    public static async Task<KubeletServer> StartAsync(
        int port, X509Certificate2 certificate, string? clientCaPem, string? token, PodSyncer pods, IRuntimeService runtime,
        string nodeName, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        // The empty builder: a default one watches the whole working directory tree for configuration files.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Any, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                });
            });
        });
        var app = builder.Build();
        X509Certificate2Collection? ca = null;
        if (clientCaPem is { Length: > 0 })
        {
            ca = [];
            ca.ImportFromPem(clientCaPem);
        }

        var server = new KubeletServer(app, pods, runtime, ca, token, new SummaryProvider(runtime, nodeName, () => NodeUsage.Read(), time), time);
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address.Replace("0.0.0.0", "localhost", StringComparison.Ordinal).Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        summary.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/healthz")
        {
            await context.Response.WriteAsync("ok", context.RequestAborted);
            return;
        }

        if (!Authorized(context))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync("Unauthorized", context.RequestAborted);
            return;
        }

        var segments = path.Trim('/').Split('/');
        if (segments is ["pods"])
        {
            var list = new PodList { ApiVersion = "v1", Kind = "PodList", Items = [.. pods.Pods.Values], Metadata = new ApiMachinery.Meta.V1.ListMeta() };
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(KubernetesJson.Serialize(list), context.RequestAborted);
            return;
        }

        if (segments is ["containerLogs", var ns, var podName, var containerName])
        {
            await ServeLogsAsync(context, ns, podName, containerName);
            return;
        }

        if (segments is ["exec" or "attach", var streamNs, var streamPod, var streamContainer])
        {
            await ServeContainerStreamAsync(context, segments[0] == "attach", streamNs, streamPod, streamContainer);
            return;
        }

        if (segments is ["portForward", var forwardNs, var forwardPod])
        {
            await ServePortForwardAsync(context, forwardNs, forwardPod);
            return;
        }

        if (segments is ["metrics"])
        {
            context.Response.ContentType = ApiMachinery.Metrics.MetricsExposition.ContentType;
            await ApiMachinery.Metrics.MetricsExposition.WriteAsync(context.Response.Body, [pods.Metrics.Registry, ApiMachinery.Metrics.ComponentMetrics.Registry], context.RequestAborted);
            return;
        }

        if (segments is ["metrics", "cadvisor"])
        {
            var text = await Metrics.CadvisorMetrics.RenderAsync(runtime, context.RequestAborted);
            context.Response.ContentType = Metrics.CadvisorMetrics.ContentType;
            await context.Response.WriteAsync(text, context.RequestAborted);
            return;
        }

        if (segments is ["stats", "summary"])
        {
            var body = await summary.GetAsync(context.RequestAborted);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync("404 page not found", context.RequestAborted);
    }

    private bool Authorized(HttpContext context)
    {
        if (clientCa is null && token is null)
        {
            return true;
        }

        if (token is not null && context.Request.Headers.Authorization.ToString() is { } header
            && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), Encoding.UTF8.GetBytes(token)))
        {
            return true;
        }

        if (clientCa is not null && context.Connection.ClientCertificate is { } certificate)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(clientCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        }

        return false;
    }

    private async Task ServeLogsAsync(HttpContext context, string ns, string podName, string containerName)
    {
        var query = context.Request.Query;
        var cancellationToken = context.RequestAborted;
        var pod = pods.Find(ns, podName);
        if (pod is null)
        {
            await NotFoundAsync(context, $"pod \"{podName}\" not found on this node");
            return;
        }

        var state = await RuntimePod.LoadAsync(runtime, pod.Metadata!.Uid!, cancellationToken);
        var previous = Flag(query["previous"]);
        var container = previous ? state.Previous(containerName) : state.Latest(containerName);
        if (container is null || !File.Exists(container.LogPath))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                previous ? $"previous terminated container \"{containerName}\" in pod \"{podName}\" not found"
                : $"container \"{containerName}\" in pod \"{podName}\" is waiting to start: ContainerCreating", cancellationToken);
            return;
        }

        var timestamps = Flag(query["timestamps"]);
        var follow = Flag(query["follow"]) && !previous;
        DateTimeOffset? since = null;
        if (long.TryParse(query["sinceSeconds"], CultureInfo.InvariantCulture, out var sinceSeconds))
        {
            since = time.GetUtcNow() - TimeSpan.FromSeconds(sinceSeconds);
        }
        else if (DateTimeOffset.TryParse(query["sinceTime"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var sinceTime))
        {
            since = sinceTime;
        }

        long? tail = long.TryParse(query["tailLines"], CultureInfo.InvariantCulture, out var t) ? t : null;
        long limit = long.TryParse(query["limitBytes"], CultureInfo.InvariantCulture, out var l) ? l : long.MaxValue;
        context.Response.ContentType = "text/plain";
        await context.Response.StartAsync(cancellationToken);

        var written = 0L;
        async Task<bool> WriteAsync(CriLogLine line)
        {
            if (since is { } s && line.Timestamp < s)
            {
                return true;
            }

            var text = timestamps ? line.TimestampText + " " + line.Content : line.Content;
            var bytes = Encoding.UTF8.GetBytes(text);
            var room = limit - written;
            if (room <= 0)
            {
                return false;
            }

            await context.Response.Body.WriteAsync(bytes.AsMemory(0, (int)Math.Min(bytes.Length, room)), cancellationToken);
            written += bytes.Length;
            return written < limit;
        }

        long offset;
        List<CriLogLine> existing;
        using (var probe = new FileStream(container.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            offset = probe.Length;
        }

        existing = CriLogReader.ReadAll(container.LogPath).ToList();
        var start = tail is { } n ? Math.Max(0, existing.Count - (int)Math.Min(n, existing.Count)) : 0;
        foreach (var line in existing.Skip(start))
        {
            if (!await WriteAsync(line))
            {
                return;
            }
        }

        await context.Response.Body.FlushAsync(cancellationToken);
        if (!follow)
        {
            return;
        }

        var containerId = container.Id;
        async Task<bool> StillRunningAsync(CancellationToken ct)
        {
            try
            {
                var status = await runtime.ContainerStatusAsync(containerId, cancellationToken: ct);
                return status.Status.State is CriContainerState.ContainerRunning or CriContainerState.ContainerCreated;
            }
            catch (Grpc.Core.RpcException)
            {
                return false;
            }
        }

        try
        {
            await foreach (var line in CriLogReader.FollowAsync(container.LogPath, offset, StillRunningAsync, time, cancellationToken))
            {
                if (!await WriteAsync(line))
                {
                    return;
                }

                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>exec and attach: the runtime hands out a streaming URL for the running container; the client's upgrade goes there.</summary>
    private async Task ServeContainerStreamAsync(HttpContext context, bool attach, string ns, string podName, string containerName)
    {
        var cancellationToken = context.RequestAborted;
        var query = context.Request.Query;
        var pod = pods.Find(ns, podName);
        if (pod is null)
        {
            await NotFoundAsync(context, $"pod \"{podName}\" not found on this node");
            return;
        }

        var state = await RuntimePod.LoadAsync(runtime, pod.Metadata!.Uid!, cancellationToken);
        var container = state.Latest(containerName);
        if (container is null || container.State != CriContainerState.ContainerRunning)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"container \"{containerName}\" in pod \"{podName}\" is not running", cancellationToken);
            return;
        }

        var stdin = Flag(query["stdin"]) || Flag(query["input"]);
        var stdout = Flag(query["stdout"]) || Flag(query["output"]);
        var stderr = Flag(query["stderr"]) || Flag(query["error"]);
        var tty = Flag(query["tty"]);
        string url;
        try
        {
            if (attach)
            {
                url = (await runtime.AttachAsync(new AttachRequest { ContainerId = container.Id, Stdin = stdin, Stdout = stdout, Stderr = stderr, Tty = tty }, cancellationToken)).Url;
            }
            else
            {
                var request = new ExecRequest { ContainerId = container.Id, Stdin = stdin, Stdout = stdout, Stderr = stderr, Tty = tty };
                request.Cmd.AddRange(query["command"].Select(c => c ?? ""));
                url = (await runtime.ExecAsync(request, cancellationToken)).Url;
            }
        }
        catch (Grpc.Core.RpcException e)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(e.Status.Detail, cancellationToken);
            return;
        }

        await UpgradeRelay.RelayAsync(context, new Uri(url), null, cancellationToken);
    }

    private async Task ServePortForwardAsync(HttpContext context, string ns, string podName)
    {
        var cancellationToken = context.RequestAborted;
        var pod = pods.Find(ns, podName);
        if (pod is null)
        {
            await NotFoundAsync(context, $"pod \"{podName}\" not found on this node");
            return;
        }

        var sandbox = (await RuntimePod.LoadAsync(runtime, pod.Metadata!.Uid!, cancellationToken)).ReadySandbox;
        if (sandbox is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"pod \"{podName}\" has no running sandbox", cancellationToken);
            return;
        }

        var request = new PortForwardRequest { PodSandboxId = sandbox.Id };
        foreach (var value in context.Request.Query["port"].Concat(context.Request.Query["ports"]))
        {
            foreach (var port in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    request.Port.Add(number);
                }
            }
        }

        string url;
        try
        {
            url = (await runtime.PortForwardAsync(request, cancellationToken)).Url;
        }
        catch (Grpc.Core.RpcException e)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(e.Status.Detail, cancellationToken);
            return;
        }

        await UpgradeRelay.RelayAsync(context, new Uri(url), null, cancellationToken);
    }

    private static async Task NotFoundAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync(message, context.RequestAborted);
    }

    // Every spelling Go's strconv.ParseBool takes as true: the Python client sends "True".
    private static bool Flag(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count > 0 && (value[0] is "true" or "True" or "TRUE" or "t" or "T" or "1" or "");
}
