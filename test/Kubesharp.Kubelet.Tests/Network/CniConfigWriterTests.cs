using System.Text.Json.Nodes;
using Kubesharp.Kubelet.Network;

namespace Kubesharp.Kubelet.Tests.Network;

public sealed class CniConfigWriterTests
{
    [Fact]
    public void Render_PodCidr_BridgeWithHostLocalThenPortmap()
    {
        var json = JsonNode.Parse(CniConfigWriter.Render(new CniNetworkOptions { PodCidr = "10.42.0.0/24", IpamDataDir = "/data/ipam" }))!;

        Assert.Equal("1.0.0", (string?)json["cniVersion"]);
        Assert.Equal("kubesharp", (string?)json["name"]);
        var plugins = json["plugins"]!.AsArray();
        Assert.Equal(["bridge", "portmap"], plugins.Select(p => (string?)p!["type"]));
        var bridge = plugins[0]!;
        Assert.Equal("kubesharp0", (string?)bridge["bridge"]);
        Assert.True((bool?)bridge["isGateway"]);
        Assert.True((bool?)bridge["ipMasq"]);
        Assert.Equal("host-local", (string?)bridge["ipam"]!["type"]);
        Assert.Equal("10.42.0.0/24", (string?)bridge["ipam"]!["ranges"]![0]![0]!["subnet"]);
        Assert.Equal("0.0.0.0/0", (string?)bridge["ipam"]!["routes"]![0]!["dst"]);
        Assert.Equal("/data/ipam", (string?)bridge["ipam"]!["dataDir"]);
        Assert.True((bool?)plugins[1]!["capabilities"]!["portMappings"]);
    }

    [Theory]
    [InlineData("10.42.3.7/24", "10.42.3.0", 24)]
    [InlineData("10.42.0.0/16", "10.42.0.0", 16)]
    [InlineData("fd00::1/64", "fd00::", 64)]
    public void ParseCidr_HostBitsSet_ReturnsNetworkAddress(string cidr, string network, int prefix)
    {
        var (address, length) = CniConfigWriter.ParseCidr(cidr);

        Assert.Equal(network, address.ToString());
        Assert.Equal(prefix, length);
    }

    [Theory]
    [InlineData("10.42.0.0")]
    [InlineData("10.42.0.0/33")]
    [InlineData("10.42.0.0/31")]
    [InlineData("nonsense/24")]
    public void ParseCidr_Invalid_ThrowsFormatException(string cidr)
    {
        Assert.Throws<FormatException>(() => CniConfigWriter.ParseCidr(cidr));
    }

    [Fact]
    public void Render_LongBridgeName_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => CniConfigWriter.Render(new CniNetworkOptions { PodCidr = "10.0.0.0/24", BridgeName = "a-name-longer-than-15" }));
    }

    [Fact]
    public void Write_Twice_LeavesOneConflistWithTheLatestContent()
    {
        var dir = Directory.CreateTempSubdirectory("ks-cni-");
        try
        {
            CniConfigWriter.Write(dir.FullName, new CniNetworkOptions { PodCidr = "10.1.0.0/24" });
            var path = CniConfigWriter.Write(dir.FullName, new CniNetworkOptions { PodCidr = "10.2.0.0/24" });

            Assert.Equal([path], Directory.GetFiles(dir.FullName));
            Assert.Contains("10.2.0.0/24", File.ReadAllText(path));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
