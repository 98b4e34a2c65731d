using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The <c>path</c> of a RequestRedirect or URLRewrite filter: <c>ReplaceFullPath</c> puts a new path in place of the
/// request's; <c>ReplacePrefixMatch</c> replaces the part that the route's PathPrefix match covered (whole path
/// elements, trailing slashes ignored, as that match compares).
/// </summary>
internal sealed class GatewayPathModifier
{
    private readonly string? fullPath;
    private readonly string? prefix;

    private GatewayPathModifier(string? fullPath, string? prefix)
    {
        this.fullPath = fullPath;
        this.prefix = prefix;
    }

    /// <summary>Whether it needs the matched prefix (valid only with a PathPrefix match).</summary>
    public bool ReplacesPrefix => prefix is not null;

    /// <summary>The modifier, or null with <paramref name="error"/> set when its type is not one upstream defines.</summary>
    public static GatewayPathModifier? Parse(JsonObject spec, out string? error)
    {
        ArgumentNullException.ThrowIfNull(spec);
        error = null;
        switch ((string?)spec["type"])
        {
            case "ReplaceFullPath":
                return new GatewayPathModifier((string?)spec["replaceFullPath"] ?? "/", null);
            case "ReplacePrefixMatch":
                return new GatewayPathModifier(null, (string?)spec["replacePrefixMatch"] ?? string.Empty);
            default:
                error = $"path modifier type {(string?)spec["type"]} is not supported";
                return null;
        }
    }

    /// <param name="path">The request's path.</param>
    /// <param name="matchedPrefix">The value of the PathPrefix match that selected the rule.</param>
    public string Apply(string path, string matchedPrefix)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(matchedPrefix);
        if (fullPath is not null)
        {
            return fullPath;
        }

        // What follows the matched elements ("" or "/..."), after the replacement without its trailing slash.
        var matched = matchedPrefix.TrimEnd('/');
        var rest = path.Length >= matched.Length ? path[matched.Length..] : string.Empty;
        var result = prefix!.TrimEnd('/') + rest;
        return result.Length == 0 ? "/" : result;
    }
}
