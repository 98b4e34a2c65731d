using System.Buffers.Binary;
using System.Text;

namespace Kubesharp.Dns.Wire;

/// <summary>
/// Writes DNS messages with name compression. Records that do not fit <c>maxSize</c> are dropped at a
/// record boundary and the message is marked truncated, so the client retries over TCP.
/// </summary>
public sealed class DnsMessageWriter
{
    private readonly byte[] buffer;
    private readonly Dictionary<string, int> names = new(StringComparer.OrdinalIgnoreCase);
    private int position;

    private DnsMessageWriter(int capacity)
    {
        buffer = new byte[capacity];
    }

    /// <summary>Serialises <paramref name="message"/> into at most <paramref name="maxSize"/> bytes (65535 for TCP).</summary>
    public static byte[] Write(DnsMessage message, int maxSize = ushort.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new DnsMessageWriter(Math.Max(maxSize, 12) + 512);
        return writer.WriteMessage(message, Math.Max(maxSize, 12));
    }

    private byte[] WriteMessage(DnsMessage message, int maxSize)
    {
        position = 12;
        foreach (var question in message.Questions)
        {
            WriteName(question.Name);
            WriteUInt16((ushort)question.Type);
            WriteUInt16(question.Class);
        }

        var truncated = message.Truncated;
        var optSize = message.EdnsUdpSize is null ? 0 : 11;
        var counts = new ushort[3];
        var sections = new[] { message.Answers, message.Authorities, message.Additionals };
        for (var s = 0; s < sections.Length && !truncated; s++)
        {
            foreach (var record in sections[s])
            {
                var mark = position;
                WriteRecord(record);
                if (position + optSize > maxSize)
                {
                    position = mark;
                    ForgetNamesFrom(mark);
                    // Missing additional records do not make an answer incomplete (RFC 2181 9).
                    truncated = s < 2;
                    break;
                }

                counts[s]++;
            }

            if (counts[s] < sections[s].Count)
            {
                break;
            }
        }

        var additionalCount = counts[2];
        if (message.EdnsUdpSize is { } size)
        {
            // OPT: root name, type 41, class = UDP payload size, TTL 0 (extended rcode/version/flags), no options.
            buffer[position++] = 0;
            WriteUInt16((ushort)DnsType.OPT);
            WriteUInt16(size);
            WriteUInt32(0);
            WriteUInt16(0);
            additionalCount++;
        }

        var flags = (ushort)((message.IsResponse ? 0x8000 : 0) | ((message.Opcode & 0xF) << 11) |
            (message.Authoritative ? 0x0400 : 0) | (truncated ? 0x0200 : 0) |
            (message.RecursionDesired ? 0x0100 : 0) | (message.RecursionAvailable ? 0x0080 : 0) |
            ((int)message.ResponseCode & 0xF));
        BinaryPrimitives.WriteUInt16BigEndian(buffer, message.Id);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(4), (ushort)message.Questions.Count);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(6), counts[0]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(8), counts[1]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(10), additionalCount);
        return buffer.AsSpan(0, position).ToArray();
    }

    private void ForgetNamesFrom(int mark)
    {
        foreach (var (name, offset) in names.ToList())
        {
            if (offset >= mark)
            {
                names.Remove(name);
            }
        }
    }

    private void WriteRecord(DnsRecord record)
    {
        WriteName(record.Name);
        WriteUInt16((ushort)record.Type);
        WriteUInt16(record.Class);
        WriteUInt32(record.Ttl);
        var lengthAt = position;
        position += 2;
        switch (record.Data)
        {
            case AddressData address:
                address.Address.TryWriteBytes(buffer.AsSpan(position), out var written);
                position += written;
                break;
            case NameData name:
                WriteName(name.Target);
                break;
            case SrvData srv:
                WriteUInt16(srv.Priority);
                WriteUInt16(srv.Weight);
                WriteUInt16(srv.Port);
                // RFC 2782 forbids compressing the SRV target.
                WriteName(srv.Target, compress: false);
                break;
            case SoaData soa:
                WriteName(soa.PrimaryServer);
                WriteName(soa.Mailbox);
                WriteUInt32(soa.Serial);
                WriteUInt32(soa.Refresh);
                WriteUInt32(soa.Retry);
                WriteUInt32(soa.Expire);
                WriteUInt32(soa.Minimum);
                break;
            case RawData raw:
                raw.Bytes.Span.CopyTo(buffer.AsSpan(position));
                position += raw.Bytes.Length;
                break;
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(lengthAt), (ushort)(position - lengthAt - 2));
    }

    private void WriteName(string name, bool compress = true)
    {
        var rest = name.TrimEnd('.');
        while (rest.Length > 0)
        {
            if (compress && names.TryGetValue(rest, out var pointer))
            {
                WriteUInt16((ushort)(0xC000 | pointer));
                return;
            }

            if (compress && position < 0x3FFF)
            {
                names[rest] = position;
            }

            var dot = rest.IndexOf('.', StringComparison.Ordinal);
            var label = dot < 0 ? rest : rest[..dot];
            var count = Encoding.ASCII.GetByteCount(label);
            if (count is 0 or > 63)
            {
                throw new DnsFormatException($"invalid label in {name}");
            }

            buffer[position++] = (byte)count;
            position += Encoding.ASCII.GetBytes(label, buffer.AsSpan(position));
            rest = dot < 0 ? string.Empty : rest[(dot + 1)..];
        }

        buffer[position++] = 0;
    }

    private void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(position), value);
        position += 2;
    }

    private void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(position), value);
        position += 4;
    }
}
