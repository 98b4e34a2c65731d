using System.Buffers.Binary;

namespace Kubesharp.Dns.Wire;

/// <summary>
/// The header and only question of a plain query, read in place without allocating: all that answering from a
/// precomputed response needs. Anything unusual (several questions, records other than one EDNS OPT, a
/// compressed question name) is not read here and goes to <see cref="DnsMessageReader"/>.
/// </summary>
internal readonly struct DnsQuery
{
    /// <summary>Where the question starts, right after the header.</summary>
    public const int QuestionOffset = 12;

    private const int MaxWireNameLength = 255;

    public ushort Id { get; private init; }

    public bool RecursionDesired { get; private init; }

    /// <summary>The offset just past the question's type and class.</summary>
    public int QuestionEnd { get; private init; }

    public DnsType Type { get; private init; }

    public ushort Class { get; private init; }

    /// <summary>The requestor's UDP payload size from its OPT record, or -1 without EDNS(0).</summary>
    public int EdnsUdpSize { get; private init; }

    public int QuestionLength => QuestionEnd - QuestionOffset;

    public static bool TryRead(ReadOnlySpan<byte> message, out DnsQuery query)
    {
        query = default;
        if (message.Length < QuestionOffset)
        {
            return false;
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var additionals = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if ((flags & 0xF800) != 0 || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != 1 ||
            BinaryPrimitives.ReadUInt32BigEndian(message[6..]) != 0 || additionals > 1)
        {
            // A response, another opcode, not exactly one question, or answer/authority records.
            return false;
        }

        var offset = QuestionOffset;
        while (true)
        {
            if (offset >= message.Length)
            {
                return false;
            }

            var length = message[offset];
            if (length == 0)
            {
                offset++;
                break;
            }

            // Labels are at most 63 bytes; larger values are compression pointers or unknown label types.
            offset += length + 1;
            if (length > 63 || offset - QuestionOffset > MaxWireNameLength)
            {
                return false;
            }
        }

        if (offset + 4 > message.Length)
        {
            return false;
        }

        var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        var questionEnd = offset + 4;
        var edns = -1;
        if (additionals == 1)
        {
            // Only the OPT pseudo-record: root name, type 41, class = payload size, TTL, RDATA length, options.
            offset = questionEnd;
            if (offset + 11 > message.Length || message[offset] != 0 ||
                BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 1)..]) != (ushort)DnsType.OPT ||
                offset + 11 + BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 9)..]) > message.Length)
            {
                return false;
            }

            edns = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 3)..]);
        }

        query = new DnsQuery
        {
            Id = BinaryPrimitives.ReadUInt16BigEndian(message),
            RecursionDesired = (flags & 0x0100) != 0,
            QuestionEnd = questionEnd,
            Type = type,
            Class = @class,
            EdnsUdpSize = edns,
        };
        return true;
    }

    /// <summary>
    /// Copies the question (name, type, class) into <paramref name="key"/> with the name in lower case, so that
    /// questions differing only in case (RFC 4343, and 0x20 randomisation) share a key.
    /// </summary>
    public void WriteKey(ReadOnlySpan<byte> message, Span<byte> key)
    {
        var question = message[QuestionOffset..QuestionEnd];
        question.CopyTo(key);
        // Label length bytes are at most 63, below 'A', so the name can be folded byte by byte.
        var nameEnd = question.Length - 4;
        for (var i = 0; i < nameEnd; i++)
        {
            if (key[i] is >= (byte)'A' and <= (byte)'Z')
            {
                key[i] |= 0x20;
            }
        }
    }
}
