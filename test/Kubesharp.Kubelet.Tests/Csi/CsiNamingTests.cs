using Kubesharp.Api.Storage.V1;
using Kubesharp.Client.Volumes;
using Kubesharp.Kubelet.Csi;
using Kubesharp.Kubelet.Csi.PluginRegistration;

namespace Kubesharp.Kubelet.Tests.Csi;

/// <summary>The names, paths and rules the agent and the controllers must share with upstream byte for byte.</summary>
public sealed class CsiNamingTests
{
    [Fact]
    public void AttachmentName_HandleDriverNode_IsCsiPrefixedSha256()
    {
        // sha256("vol-1" + "csi.example.com" + "node-a"), as `printf %s ... | sha256sum` prints it.
        Assert.Equal("csi-664f93e6befe920d56b73708bbb3eb1888cad5fb3e7203b1b501f466d0bea90f", CsiAttachments.AttachmentName("vol-1", "csi.example.com", "node-a"));
    }

    [Fact]
    public void UniqueVolumeName_DriverAndHandle_IsPluginSlashDriverCaretHandle() =>
        Assert.Equal("kubernetes.io/csi/csi.example.com^vol-1", CsiAttachments.UniqueVolumeName("csi.example.com", "vol-1"));

    [Fact]
    public void AttachRequired_NoObjectOrUnset_TrueAndFalseOnlyWhenSaid()
    {
        Assert.True(CsiAttachments.AttachRequired(null));
        Assert.True(CsiAttachments.AttachRequired(new CSIDriver { Spec = new CSIDriverSpec() }));
        Assert.False(CsiAttachments.AttachRequired(new CSIDriver { Spec = new CSIDriverSpec { AttachRequired = false } }));
    }

    [Fact]
    public void InlineVolumeHandle_PodAndVolume_IsCsiPrefixedSha256() =>
        Assert.Equal("csi-d6e418cffb6079f9b02d83af7dffbf3511ed5a26b3f106f1f3ca764ed6505c9c", CsiVolumes.InlineVolumeHandle("uid-1", "data"));

    [Fact]
    public void StagingPath_DriverAndHandle_GlobalMountUnderHandleHash()
    {
        var volumes = new CsiVolumes(null!, new CsiDriverRegistry(), "/data/pods", "/data/plugins", "node-a");
        Assert.Equal(
            "/data/plugins/kubernetes.io/csi/csi.example.com/d2e8363faaac7ae76def3b14091d8eb5755f6b92e9531627aeec833a8731cc49/globalmount",
            volumes.StagingPath("csi.example.com", "vol-1"));
    }

    [Theory]
    [InlineData(null, "SingleNodeWriter")]
    [InlineData("ReadWriteOnce", "SingleNodeWriter")]
    [InlineData("ReadWriteOncePod", "SingleNodeWriter")]
    [InlineData("ReadOnlyMany", "MultiNodeReaderOnly")]
    [InlineData("ReadWriteMany", "MultiNodeMultiWriter")]
    public void AccessMode_FirstAccessMode_MapsAsUpstream(string? first, string expected) =>
        Assert.Equal(expected, CsiVolumes.AccessMode(first is null ? null : [first, "ReadWriteMany"]).ToString());

    [Theory]
    [InlineData("CSIPlugin", "csi.example.com", "1.0.0", null)]
    [InlineData("CSIPlugin", "csi.example.com", "v1.5.0", null)]
    [InlineData("DevicePlugin", "csi.example.com", "1.0.0", "plugin type DevicePlugin is not supported by this node (only CSIPlugin)")]
    [InlineData("CSIPlugin", "", "1.0.0", "RegisterPlugin error -- plugin name is empty")]
    [InlineData("CSIPlugin", "csi.example.com", "0.3.0", "RegisterPlugin error -- none of the versions specified [0.3.0] are supported")]
    public void Validate_PluginInfo_AcceptsOnlyCsiVersion1(string type, string name, string version, string? expected) =>
        Assert.Equal(expected, CsiPluginWatcher.Validate(new PluginInfo { Type = type, Name = name, SupportedVersions = { version } }));

    [Fact]
    public void VolumeData_WrittenThenRead_RoundTrips()
    {
        var dir = Directory.CreateTempSubdirectory("csi-data-").FullName;
        try
        {
            var path = Path.Combine(dir, CsiVolumeData.FileName);
            var data = new CsiVolumeData("csi.example.com", "vol-1", "data", "/data/plugins/x/globalmount");
            data.Write(path);
            Assert.Equal(data, CsiVolumeData.Read(path));
            File.WriteAllText(path, "{\"driverName\":\"\"}");
            Assert.Null(CsiVolumeData.Read(path));
            Assert.Null(CsiVolumeData.Read(Path.Combine(dir, "missing.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
