using Kubesharp.Api.Protobuf;
namespace Kubesharp.Api.Tests.Protobuf;
public sealed class DumpTests
{
    [Fact]
    public void Dump()
    {
        var lines = new List<string>();
        foreach (var f in Directory.GetFiles("/tmp/pbcap", "*.bin"))
        {
            lines.Add(Path.GetFileName(f).Split('?')[0]);
            lines.Add(Convert.ToHexString(File.ReadAllBytes(f)));
            lines.Add(ProtobufDecoder.DecodeEnvelope(File.ReadAllBytes(f)).ToJsonString());
        }
        File.WriteAllLines("/tmp/pbcap/out.txt", lines);
    }
}
