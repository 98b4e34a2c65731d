using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>Conditional GETs of documents that carry an entity tag (discovery, OpenAPI, the dashboard's files).</summary>
internal static class EntityTags
{
    /// <summary>
    /// Sends <paramref name="etag"/> and, when If-None-Match names it (or is <c>*</c>), answers 304 without a body and
    /// returns true; the caller writes the document otherwise. Tags compare weakly, as If-None-Match asks (RFC 9110).
    /// </summary>
    public static bool AnswerNotModified(HttpContext context, string etag)
    {
        context.Response.Headers.ETag = etag;
        foreach (var header in context.Request.Headers.IfNoneMatch)
        {
            foreach (var entry in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var tag = entry.StartsWith("W/", StringComparison.Ordinal) ? entry[2..] : entry;
                if (tag == "*" || tag == Opaque(etag))
                {
                    context.Response.StatusCode = StatusCodes.Status304NotModified;
                    return true;
                }
            }
        }

        return false;
    }

    private static string Opaque(string etag) => etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag;
}
