using System.Text;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Health;

/// <summary>
/// /healthz, /livez and /readyz as upstream serves them: "ok" when every check passes, otherwise 500 with one
/// <c>[+]name ok</c> / <c>[-]name failed: reason</c> line per check; <c>?verbose</c> lists them when passing too,
/// <c>?exclude=NAME</c> leaves checks out and <c>/readyz/NAME</c> runs one check alone.
/// </summary>
internal sealed class HealthEndpoint(HealthChecks liveness, HealthChecks readiness)
{
    public async Task<bool> TryHandleAsync(HttpContext context, string path)
    {
        var slash = path.IndexOf('/', 1);
        var endpoint = slash < 0 ? path[1..] : path[1..slash];
        var checks = endpoint switch
        {
            "healthz" or "livez" => liveness,
            "readyz" => readiness,
            _ => null,
        };
        if (checks is null)
        {
            return false;
        }

        var results = checks.Run();
        if (slash >= 0)
        {
            var name = path[(slash + 1)..];
            if (results.FirstOrDefault(r => r.Name == name) is not { } single)
            {
                // Unknown checks are plain 404s, as upstream's mux answers them.
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await WriteTextAsync(context, "404 page not found\n").ConfigureAwait(false);
                return true;
            }

            context.Response.StatusCode = single.Failure is null ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
            await WriteTextAsync(context, single.Failure is null ? "ok" : $"internal server error: {single.Failure}\n").ConfigureAwait(false);
            return true;
        }

        var excluded = new HashSet<string>(context.Request.Query["exclude"].Where(e => !string.IsNullOrEmpty(e))!, StringComparer.Ordinal);
        var text = new StringBuilder();
        var failed = false;
        foreach (var result in results)
        {
            if (excluded.Remove(result.Name))
            {
                text.Append("[+]").Append(result.Name).Append(" excluded: ok\n");
            }
            else if (result.Failure is null)
            {
                text.Append("[+]").Append(result.Name).Append(" ok\n");
            }
            else
            {
                failed = true;
                text.Append("[-]").Append(result.Name).Append(" failed: ").Append(result.Failure).Append('\n');
            }
        }

        foreach (var unknown in excluded)
        {
            text.Append("warn: some health checks cannot be excluded: no matches for \"").Append(unknown).Append("\"\n");
        }

        context.Response.StatusCode = failed ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        if (failed)
        {
            await WriteTextAsync(context, $"{text}{endpoint} check failed\n").ConfigureAwait(false);
        }
        else if (context.Request.Query.ContainsKey("verbose"))
        {
            await WriteTextAsync(context, $"{text}{endpoint} check passed\n").ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(context, "ok").ConfigureAwait(false);
        }

        return true;
    }

    private static Task WriteTextAsync(HttpContext context, string body)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }
}
