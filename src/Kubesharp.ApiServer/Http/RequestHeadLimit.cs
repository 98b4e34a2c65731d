using System.Text;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Upstream's budget for a request's head (request line and headers together): its HTTP server reads at most
/// MaxHeaderBytes (1 MiB) plus 4 KiB of them and answers a longer head with 431 and a short text body.
/// Kestrel refuses heads beyond its own limits with an empty 414 or 431 and no way to add a body, so its limits
/// sit at twice this budget (bounded, as upstream's, per connection) and the handler answers the heads between
/// the two as upstream does.
/// </summary>
internal static class RequestHeadLimit
{
    /// <summary>The largest head served.</summary>
    public const int MaxBytes = (1024 * 1024) + 4096;

    /// <summary>What Kestrel reads of a request line, and of the headers, before it refuses the request itself.</summary>
    public const int ServerLimit = 2 * MaxBytes;

    /// <summary>
    /// Headers Kestrel takes before refusing the request itself. Upstream counts only bytes; a count keeps a head of
    /// tiny headers from costing a dictionary entry each, far beyond what any client sends.
    /// </summary>
    public const int MaxHeaderCount = 10_000;

    private static readonly byte[] Http1Body = Encoding.ASCII.GetBytes("431 Request Header Fields Too Large");
    private static readonly byte[] Http2Body = Encoding.ASCII.GetBytes("<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>");

    /// <summary>The head's size as it came on the wire (HTTP/1) or as a decoded header list (HTTP/2).</summary>
    public static long SizeOf(HttpRequest request)
    {
        var target = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        long size = request.Method.Length + 1 + target.Length + 1 + request.Protocol.Length + 2;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                size += name.Length + 2 + (value?.Length ?? 0) + 2;
            }
        }

        return size + 2;
    }

    /// <summary>Answers 431 as upstream and returns true when the head is over the budget.</summary>
    public static bool TryRefuse(HttpContext context, out Task refusal)
    {
        if (SizeOf(context.Request) <= MaxBytes)
        {
            refusal = Task.CompletedTask;
            return false;
        }

        var http2 = HttpProtocol.IsHttp2(context.Request.Protocol) || HttpProtocol.IsHttp3(context.Request.Protocol);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status431RequestHeaderFieldsTooLarge;
        response.ContentType = http2 ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
        if (!http2)
        {
            // Upstream closes the connection; the rest of the request is not read.
            response.Headers.Connection = "close";
        }

        var body = http2 ? Http2Body : Http1Body;
        response.ContentLength = body.Length;
        refusal = response.Body.WriteAsync(body, context.RequestAborted).AsTask();
        return true;
    }
}
