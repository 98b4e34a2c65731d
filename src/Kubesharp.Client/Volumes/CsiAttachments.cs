using System.Security.Cryptography;
using System.Text;
using Kubesharp.Api.Storage.V1;

namespace Kubesharp.Client.Volumes;

/// <summary>
/// The names the attach/detach controller and the node agent agree on for CSI volumes: a VolumeAttachment's name,
/// the unique volume name nodes report in status.volumesInUse/volumesAttached, and whether a driver needs attaching.
/// </summary>
public static class CsiAttachments
{
    /// <summary>The prefix of a CSI volume's unique name (upstream's CSI plugin name).</summary>
    public const string PluginName = "kubernetes.io/csi";

    /// <summary>"csi-" and the hex SHA-256 of volume handle, driver and node, as upstream's CSI attacher names it.</summary>
    public static string AttachmentName(string volumeHandle, string driver, string nodeName)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(volumeHandle + driver + nodeName));
        return "csi-" + Convert.ToHexStringLower(hash);
    }

    /// <summary>The volume's name in a node's status: "kubernetes.io/csi/DRIVER^HANDLE".</summary>
    public static string UniqueVolumeName(string driver, string volumeHandle) => PluginName + "/" + driver + "^" + volumeHandle;

    /// <summary>A driver needs a VolumeAttachment unless its CSIDriver object says attachRequired: false.</summary>
    public static bool AttachRequired(CSIDriver? driver) => driver?.Spec?.AttachRequired ?? true;
}
