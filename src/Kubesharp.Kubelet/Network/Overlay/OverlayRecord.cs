using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>
/// The overlay a node set up, kept in its data directory (<c>cni/overlay.json</c>) while it exists, so that
/// <c>kubesharp killall</c> removes exactly that device and those chains after an agent that could not clean up.
/// </summary>
public static class OverlayRecord
{
    public static string PathIn(string dataDir) => System.IO.Path.Combine(dataDir, "cni", "overlay.json");

    public static void Write(string dataDir, OverlayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = PathIn(dataDir);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var record = new JsonObject
        {
            ["backend"] = OverlayBackends.Name(options.Backend),
            ["device"] = options.DeviceName,
            ["chainPrefix"] = options.ChainPrefix,
            ["clusterCidr"] = options.ClusterCidr,
        };
        File.WriteAllText(path, record.ToJsonString());
    }

    /// <summary>The recorded overlay; null when there is none or the file cannot be read.</summary>
    public static OverlayOptions? Read(string dataDir)
    {
        try
        {
            var record = JsonNode.Parse(File.ReadAllText(PathIn(dataDir)));
            return (string?)record?["device"] is { Length: > 0 } device && (string?)record?["chainPrefix"] is { Length: > 0 } prefix
                && OverlayBackends.TryParse((string?)record?["backend"], out var backend)
                ? new OverlayOptions { Backend = backend, DeviceName = device, ChainPrefix = prefix, ClusterCidr = (string?)record?["clusterCidr"] ?? "" }
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    public static void Delete(string dataDir) => File.Delete(PathIn(dataDir));
}
