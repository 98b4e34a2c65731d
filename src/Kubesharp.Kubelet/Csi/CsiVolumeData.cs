using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Kubelet.Csi;

/// <summary>
/// What the agent keeps beside a published CSI volume (vol_data.json next to the pod's mount dir, as upstream): enough
/// to unpublish and unstage it after an agent restart, when the pod and its volume objects may be gone.
/// </summary>
internal sealed record CsiVolumeData(string Driver, string VolumeHandle, string SpecVolumeName, string? StagingTargetPath)
{
    public const string FileName = "vol_data.json";

    public void Write(string path)
    {
        var document = new JsonObject
        {
            ["driverName"] = Driver,
            ["volumeHandle"] = VolumeHandle,
            ["specVolID"] = SpecVolumeName,
            ["stagingTargetPath"] = StagingTargetPath,
        };
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, document.ToJsonString());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The data at <paramref name="path"/>, or null when there is none or it cannot be read.</summary>
    public static CsiVolumeData? Read(string path)
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject document
                || document["driverName"]?.GetValue<string>() is not { Length: > 0 } driver
                || document["volumeHandle"]?.GetValue<string>() is not { Length: > 0 } handle)
            {
                return null;
            }

            return new CsiVolumeData(driver, handle, document["specVolID"]?.GetValue<string>() ?? "", document["stagingTargetPath"]?.GetValue<string>());
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
