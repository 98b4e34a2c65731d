using Kubesharp.ApiMachinery.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// The request path as the client sent it, percent-decoded once and split on '/', without dot-segment removal.
/// The HTTP server removes "." and ".." segments (also encoded ones) before routing, which would let
/// <c>configmaps/..</c> address the namespace itself; upstream keeps such segments and refuses them as names.
/// </summary>
internal static class RequestPath
{
    /// <summary>Longest request target (path and query) served; longer ones get 414 with a Status.</summary>
    public const int MaxTargetLength = 512 * 1024;

    public static string Of(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is { Length: > MaxTargetLength })
        {
            throw new StatusError(414, "RequestURITooLong", $"the request URI is longer than {MaxTargetLength.ToString(System.Globalization.CultureInfo.InvariantCulture)} bytes");
        }

        if (string.IsNullOrEmpty(raw) || raw[0] != '/')
        {
            // Absolute-form or asterisk-form targets: the server's own path is all there is.
            return context.Request.Path.Value ?? "/";
        }

        var end = raw.IndexOfAny(['?', '#']);
        var path = end >= 0 ? raw[..end] : raw;
        return Uri.UnescapeDataString(path);
    }

    /// <summary>Namespace and name segments must be usable as one path segment: never ".", "..", or holding '/' or '%'.</summary>
    public static void CheckNames(ResourceRequest request)
    {
        if (request.Namespace is { } ns && NameValidation.IsValidPathSegmentName(ns) is { Count: > 0 } nsErrors)
        {
            throw StatusError.BadRequest($"Namespace parameter invalid: {Quote(ns)}: {string.Join(";", nsErrors)}");
        }

        if (request.Name is { } name && NameValidation.IsValidPathSegmentName(name) is { Count: > 0 } errors)
        {
            throw StatusError.BadRequest($"Name parameter invalid: {Quote(name)}: {string.Join(";", errors)}");
        }
    }

    private static string Quote(string value) => Kubesharp.ApiMachinery.Errors.QuotedString.Quote(value);
}
