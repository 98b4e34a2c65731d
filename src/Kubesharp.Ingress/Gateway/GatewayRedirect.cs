using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// An HTTPRoute RequestRedirect filter: answers with <c>statusCode</c> (302 by default) and a Location built from the
/// request, with the scheme, hostname, port and path the filter names. Without a port, a scheme given brings its
/// well-known port and none keeps the port the client addressed; 80 for http and 443 for https are left out.
/// </summary>
internal sealed class GatewayRedirect
{
    private readonly string? scheme;
    private readonly string? hostname;
    private readonly int? port;
    private readonly GatewayPathModifier? path;
    private readonly int statusCode;

    private GatewayRedirect(string? scheme, string? hostname, int? port, GatewayPathModifier? path, int statusCode)
    {
        this.scheme = scheme;
        this.hostname = hostname;
        this.port = port;
        this.path = path;
        this.statusCode = statusCode;
    }

    public GatewayPathModifier? Path => path;

    /// <summary>The redirect, or null with <paramref name="error"/> set when it asks for what upstream does not define.</summary>
    public static GatewayRedirect? Parse(JsonObject? spec, out string? error)
    {
        error = null;
        var scheme = (string?)spec?["scheme"];
        var statusCode = (int?)spec?["statusCode"] ?? StatusCodes.Status302Found;
        if (scheme is not (null or "http" or "https"))
        {
            error = $"redirect scheme {scheme} is not supported";
            return null;
        }

        if (statusCode is not (301 or 302 or 303 or 307 or 308))
        {
            error = $"redirect status code {statusCode.ToString(CultureInfo.InvariantCulture)} is not supported";
            return null;
        }

        GatewayPathModifier? path = null;
        if (spec?["path"] is JsonObject pathSpec && (path = GatewayPathModifier.Parse(pathSpec, out error)) is null)
        {
            return null;
        }

        return new GatewayRedirect(scheme, (string?)spec?["hostname"], (int?)spec?["port"], path, statusCode);
    }

    public void Respond(HttpContext context, string matchedPrefix)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var targetScheme = scheme ?? request.Scheme;
        var targetPort = port ?? (scheme is not null ? WellKnownPort(scheme) : context.Connection.LocalPort);
        var requestPath = request.Path.Value is { Length: > 0 } p ? p : "/";
        var location = targetScheme + "://" + (hostname ?? request.Host.Host)
            + (targetPort == WellKnownPort(targetScheme) ? string.Empty : ":" + targetPort.ToString(CultureInfo.InvariantCulture))
            + (path?.Apply(requestPath, matchedPrefix) ?? requestPath)
            + request.QueryString.Value;
        context.Response.StatusCode = statusCode;
        context.Response.Headers.Location = location;
    }

    private static int WellKnownPort(string scheme) => scheme == "https" ? 443 : 80;
}
