using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Kubesharp.Api.Protobuf;

/// <summary>Writes protobuf wire-format values into a growing buffer.</summary>
internal sealed class ProtobufWriter
{
    private readonly ArrayBufferWriter<byte> buffer = new();

    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    public void WriteTag(int number, int wireType) => WriteVarint(((ulong)number << 3) | (uint)wireType);

    public void WriteVarint(ulong value)
    {
        var span = buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        buffer.Advance(i);
    }

    public void WriteFixed32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    public void WriteFixed64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarint((ulong)value.Length);
        buffer.Write(value);
    }

    public void WriteString(string value) => WriteBytes(Encoding.UTF8.GetBytes(value));

    public void WriteRaw(ReadOnlySpan<byte> value) => buffer.Write(value);
}
