namespace Kubesharp.Grpc;

/// <summary>One metadata header: lower-case key and its text value (binary values are base64 under a "-bin" key).</summary>
public readonly record struct MetadataEntry(string Key, string Value)
{
    public bool IsBinary => Key.EndsWith(Metadata.BinarySuffix, StringComparison.Ordinal);

    public byte[] ValueBytes => IsBinary ? Convert.FromBase64String(PadBase64(Value)) : System.Text.Encoding.ASCII.GetBytes(Value);

    // gRPC servers may send unpadded base64.
    private static string PadBase64(string value) => (value.Length % 4) switch
    {
        2 => value + "==",
        3 => value + "=",
        _ => value,
    };
}
