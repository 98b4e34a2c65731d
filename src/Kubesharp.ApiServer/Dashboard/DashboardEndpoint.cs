using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Dashboard;

/// <summary>
/// The dashboard's static files under <see cref="Root"/>, embedded in the binary. They are public, like /version:
/// they hold no cluster data; the page signs in with the user's bearer token and reads everything through the
/// API, so authentication, authorization, priority and fairness and audit apply to what it shows, not to its files.
/// </summary>
internal static class DashboardEndpoint
{
    public const string Root = "/dashboard";
    private const string ResourcePrefix = "Kubesharp.ApiServer.Dashboard.Assets.";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    public static bool Handles(string path) => path == Root || path.StartsWith(Root + "/", StringComparison.Ordinal);

    public static async Task ServeAsync(HttpContext context, string path)
    {
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw StatusError.MethodNotAllowed("the dashboard's files are read-only");
        }

        if (path == Root)
        {
            // Relative module and style URLs resolve against the directory, so the page lives at Root + "/".
            context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            context.Response.Headers.Location = Root + "/";
            return;
        }

        var name = path[(Root.Length + 1)..];
        if (name.Length == 0)
        {
            name = "index.html";
        }

        if (!Assets.Value.TryGetValue(name, out var asset))
        {
            throw StatusError.PathNotFound();
        }

        var headers = context.Response.Headers;
        // Revalidated on every load: a new server binary brings new files under the same names.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        if (EntityTags.AnswerNotModified(context, asset.ETag))
        {
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        if (HttpMethods.IsGet(method))
        {
            await context.Response.Body.WriteAsync(asset.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardEndpoint).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var name = resource[ResourcePrefix.Length..];
            assets[name] = new Asset(content, ContentTypeOf(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
