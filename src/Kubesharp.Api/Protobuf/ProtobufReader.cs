using System.Buffers.Binary;

namespace Kubesharp.Api.Protobuf;

/// <summary>Reads protobuf wire-format values from a span; every malformed input is a <see cref="ProtobufFormatException"/>.</summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> data)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    public readonly bool End => position >= data.Length;

    public (int Number, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var number = tag >> 3;
        if (number is 0 or > int.MaxValue)
        {
            throw new ProtobufFormatException($"invalid field number {number}");
        }

        return ((int)number, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new ProtobufFormatException("truncated varint");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new ProtobufFormatException("varint longer than 10 bytes");
    }

    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(data.Length - position))
        {
            throw new ProtobufFormatException("length-delimited field runs past the end of its message");
        }

        return Take((int)length);
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Take(8);
                break;
            case LengthDelimited:
                ReadLengthDelimited();
                break;
            case Fixed32:
                Take(4);
                break;
            default:
                throw new ProtobufFormatException($"unsupported wire type {wireType}");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > data.Length - position)
        {
            throw new ProtobufFormatException("truncated message");
        }

        var slice = data.Slice(position, count);
        position += count;
        return slice;
    }
}
