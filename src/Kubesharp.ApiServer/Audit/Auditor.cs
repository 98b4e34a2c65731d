using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Audit;

/// <summary>
/// The audit step of the request pipeline: evaluates the policy for each authenticated request and, unless its level
/// is None, follows the request through its stages into the log.
/// </summary>
internal sealed class Auditor : IAsyncDisposable
{
    /// <summary>Bodies kept for requestObject and responseObject; larger ones are left out of the event.</summary>
    private const int MaxCapturedBytes = 4 * 1024 * 1024;

    private readonly AuditPolicy _policy;
    private readonly AuditLogWriter _writer;
    private readonly TimeProvider _time;

    public Auditor(AuditOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        _policy = AuditPolicy.Load(options.PolicyFile);
        _time = time;
        _writer = new AuditLogWriter(options, time, loggers.CreateLogger<AuditLogWriter>());
    }

    internal Auditor(AuditPolicy policy, AuditLogWriter writer, TimeProvider time)
    {
        _policy = policy;
        _writer = writer;
        _time = time;
    }

    /// <summary>
    /// The request's audit ID: the client's Audit-ID header when it sent one, else a new UUID; always answered in the
    /// Audit-Id response header, audit log or not.
    /// </summary>
    /// <summary>
    /// A random (version 4) UUID. The ID only has to be unique, not unguessable, so it comes from the shared
    /// pseudo-random generator instead of the system's cryptographic one, a system call per request.
    /// </summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }

    public static string AssignId(HttpContext context)
    {
        var id = context.Request.Headers["Audit-ID"].ToString();
        if (id.Length == 0)
        {
            id = NewId();
        }

        context.Response.Headers["Audit-Id"] = id;
        return id;
    }

    /// <summary>
    /// Starts the audit of an authenticated request (the RequestReceived stage), or null when the policy says None.
    /// </summary>
    public async ValueTask<AuditEvent?> BeginAsync(HttpContext context, string auditId, UserInfo user, RequestInfo info)
    {
        var received = _time.GetUtcNow();
        var requirement = _policy.Evaluate(user, info);
        if (requirement.Level == AuditLevel.None)
        {
            return null;
        }

        var uri = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (context.Request.Path + context.Request.QueryString).ToString();
        var audit = new AuditEvent(_writer, _time, requirement, auditId, uri, info, user, SourceIps(context), context.Request.Headers.UserAgent.ToString(), received);
        if (requirement.Level >= AuditLevel.Request && info.Verb is "create" or "update" or "patch" && context.Request.Body is { } body)
        {
            var capture = new CapturingStream(body, MaxCapturedBytes);
            context.Request.Body = capture;
            context.Response.RegisterForDispose(capture);
            audit.RequestBody = capture;
        }

        if (requirement.Level == AuditLevel.RequestResponse && !info.IsLongRunning)
        {
            var capture = new CapturingStream(context.Response.Body, MaxCapturedBytes);
            context.Response.Body = capture;
            context.Response.RegisterForDispose(capture);
            audit.ResponseBody = capture;
        }

        if (info.IsLongRunning)
        {
            // Watches and streams are audited when their response starts, and again when it ends.
            context.Response.OnStarting(() => audit.WriteAsync(AuditStage.ResponseStarted, context.Response.StatusCode, CancellationToken.None).AsTask());
        }

        await audit.WriteAsync(AuditStage.RequestReceived, 0, context.RequestAborted).ConfigureAwait(false);
        return audit;
    }

    /// <summary>The client addresses: X-Forwarded-For entries first, then X-Real-Ip, then the connection's peer, as upstream lists them.</summary>
    private static List<string> SourceIps(HttpContext context)
    {
        var addresses = new List<string>();
        foreach (var forwarded in context.Request.Headers["X-Forwarded-For"])
        {
            foreach (var part in (forwarded ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (System.Net.IPAddress.TryParse(part, out var ip))
                {
                    addresses.Add(ip.ToString());
                }
            }
        }

        if (System.Net.IPAddress.TryParse(context.Request.Headers["X-Real-Ip"].ToString(), out var real) && !addresses.Contains(real.ToString()))
        {
            addresses.Add(real.ToString());
        }

        if (context.Connection.RemoteIpAddress is { } remote)
        {
            var peer = (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
            if (!addresses.Contains(peer))
            {
                addresses.Add(peer);
            }
        }

        return addresses;
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
