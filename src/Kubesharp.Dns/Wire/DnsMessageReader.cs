using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Kubesharp.Dns.Wire;

/// <summary>Parses DNS messages, following compression pointers (with a loop guard).</summary>
public static class DnsMessageReader
{
    private const int MaxNameLength = 255;

    public static DnsMessage Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < 12)
        {
            throw new DnsFormatException("message shorter than the header");
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var counts = new int[4];
        for (var i = 0; i < 4; i++)
        {
            counts[i] = BinaryPrimitives.ReadUInt16BigEndian(message[(4 + (2 * i))..]);
        }

        var offset = 12;
        var questions = new List<DnsQuestion>(counts[0]);
        for (var i = 0; i < counts[0]; i++)
        {
            var name = ReadName(message, ref offset);
            Need(message, offset, 4);
            questions.Add(new DnsQuestion(name, (DnsType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]), BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..])));
            offset += 4;
        }

        var answers = ReadRecords(message, ref offset, counts[1], out _);
        var authorities = ReadRecords(message, ref offset, counts[2], out _);
        var additionals = ReadRecords(message, ref offset, counts[3], out var edns);
        return new DnsMessage
        {
            Id = BinaryPrimitives.ReadUInt16BigEndian(message),
            IsResponse = (flags & 0x8000) != 0,
            Opcode = (byte)((flags >> 11) & 0xF),
            Authoritative = (flags & 0x0400) != 0,
            Truncated = (flags & 0x0200) != 0,
            RecursionDesired = (flags & 0x0100) != 0,
            RecursionAvailable = (flags & 0x0080) != 0,
            ResponseCode = (DnsResponseCode)(flags & 0xF),
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
            Additionals = additionals,
            EdnsUdpSize = edns,
        };
    }

    /// <summary>The message ID, readable even from a message that fails to parse.</summary>
    public static ushort? PeekId(ReadOnlySpan<byte> message) => message.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(message) : null;

    private static List<DnsRecord> ReadRecords(ReadOnlySpan<byte> message, ref int offset, int count, out ushort? edns)
    {
        edns = null;
        var records = new List<DnsRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var name = ReadName(message, ref offset);
            Need(message, offset, 10);
            var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            Need(message, offset, length);
            var start = offset;
            offset += length;
            if (type == DnsType.OPT)
            {
                // For OPT the class field carries the UDP payload size.
                edns = @class;
                continue;
            }

            var rdata = message.Slice(start, length);
            DnsRecordData data = type switch
            {
                DnsType.A when length == 4 => new AddressData(new IPAddress(rdata)),
                DnsType.AAAA when length == 16 => new AddressData(new IPAddress(rdata)),
                DnsType.CNAME or DnsType.PTR or DnsType.NS => new NameData(ReadNameAt(message, start)),
                DnsType.SRV when length >= 7 => new SrvData(
                    BinaryPrimitives.ReadUInt16BigEndian(rdata),
                    BinaryPrimitives.ReadUInt16BigEndian(rdata[2..]),
                    BinaryPrimitives.ReadUInt16BigEndian(rdata[4..]),
                    ReadNameAt(message, start + 6)),
                DnsType.SOA => ReadSoa(message, start),
                _ => new RawData(rdata.ToArray()),
            };
            records.Add(new DnsRecord(name, type, ttl, data, @class));
        }

        return records;
    }

    private static SoaData ReadSoa(ReadOnlySpan<byte> message, int offset)
    {
        var primary = ReadName(message, ref offset);
        var mailbox = ReadName(message, ref offset);
        Need(message, offset, 20);
        return new SoaData(
            primary,
            mailbox,
            BinaryPrimitives.ReadUInt32BigEndian(message[offset..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 4)..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 8)..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 12)..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[(offset + 16)..]));
    }

    private static string ReadNameAt(ReadOnlySpan<byte> message, int offset) => ReadName(message, ref offset);

    /// <summary>Reads a possibly compressed name; <paramref name="offset"/> ends after the name's bytes in place.</summary>
    public static string ReadName(ReadOnlySpan<byte> message, ref int offset)
    {
        var name = new StringBuilder();
        var position = offset;
        var jumped = false;
        var jumps = 0;
        while (true)
        {
            Need(message, position, 1);
            var length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                Need(message, position, 2);
                if (++jumps > 64)
                {
                    throw new DnsFormatException("compression loop");
                }

                var target = ((length & 0x3F) << 8) | message[position + 1];
                if (!jumped)
                {
                    offset = position + 2;
                    jumped = true;
                }

                position = target;
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                throw new DnsFormatException("unsupported label type");
            }

            position++;
            if (length == 0)
            {
                break;
            }

            Need(message, position, length);
            if (name.Length > 0)
            {
                name.Append('.');
            }

            name.Append(Encoding.ASCII.GetString(message.Slice(position, length)));
            if (name.Length > MaxNameLength)
            {
                throw new DnsFormatException("name too long");
            }

            position += length;
        }

        if (!jumped)
        {
            offset = position;
        }

        return name.ToString();
    }

    private static void Need(ReadOnlySpan<byte> message, int offset, int count)
    {
        if (offset < 0 || offset + count > message.Length)
        {
            throw new DnsFormatException("message ends early");
        }
    }
}
