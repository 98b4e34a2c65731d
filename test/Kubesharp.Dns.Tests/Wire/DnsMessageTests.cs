using System.Net;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns.Tests.Wire;

public sealed class DnsMessageTests
{
    // A query for example.com/A with RD set, as dig sends it (RFC 1035 layout).
    private static readonly byte[] ExampleQuery =
    [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 3, (byte)'c', (byte)'o', (byte)'m', 0,
        0x00, 0x01, 0x00, 0x01,
    ];

    [Fact]
    public void Parse_WireQuery_ReadsHeaderAndQuestion()
    {
        var message = DnsMessageReader.Parse(ExampleQuery);

        Assert.Equal(0x1234, message.Id);
        Assert.False(message.IsResponse);
        Assert.True(message.RecursionDesired);
        Assert.Equal(new DnsQuestion("example.com", DnsType.A), Assert.Single(message.Questions));
    }

    [Fact]
    public void Write_Query_MatchesWireBytes()
    {
        var bytes = DnsMessageWriter.Write(new DnsMessage { Id = 0x1234, RecursionDesired = true, Questions = [new DnsQuestion("example.com", DnsType.A)] });

        Assert.Equal(ExampleQuery, bytes);
    }

    [Fact]
    public void Write_RepeatedNames_CompressesWithPointers()
    {
        var message = new DnsMessage
        {
            Id = 1,
            IsResponse = true,
            Questions = [new DnsQuestion("web.shop.svc.cluster.local", DnsType.A)],
            Answers = [new DnsRecord("web.shop.svc.cluster.local", DnsType.A, 5, new AddressData(IPAddress.Parse("10.43.0.20")))],
        };

        var bytes = DnsMessageWriter.Write(message);

        // Header 12 + question name 28 + 4; the answer's name is a two-byte pointer to offset 12.
        Assert.Equal(12 + 28 + 4 + 2 + 10 + 4, bytes.Length);
        Assert.Equal(0xC0, bytes[44]);
        Assert.Equal(12, bytes[45]);
        var parsed = DnsMessageReader.Parse(bytes);
        Assert.Equal(message.Answers, parsed.Answers);
    }

    [Fact]
    public void WriteThenParse_AllRecordTypes_RoundTrip()
    {
        var message = new DnsMessage
        {
            Id = 7,
            IsResponse = true,
            Authoritative = true,
            ResponseCode = DnsResponseCode.NameError,
            Questions = [new DnsQuestion("x.cluster.local", DnsType.ANY)],
            Answers =
            [
                new DnsRecord("a.cluster.local", DnsType.AAAA, 5, new AddressData(IPAddress.Parse("fd00::1"))),
                new DnsRecord("b.cluster.local", DnsType.CNAME, 5, new NameData("a.cluster.local")),
                new DnsRecord("_http._tcp.web.cluster.local", DnsType.SRV, 5, new SrvData(0, 100, 80, "web.cluster.local")),
                new DnsRecord("1.0.43.10.in-addr.arpa", DnsType.PTR, 5, new NameData("kubernetes.default.svc.cluster.local")),
            ],
            Authorities = [new DnsRecord("cluster.local", DnsType.SOA, 5, new SoaData("ns.dns.cluster.local", "hostmaster.cluster.local", 9, 7200, 1800, 86400, 5))],
            EdnsUdpSize = 1232,
        };

        var parsed = DnsMessageReader.Parse(DnsMessageWriter.Write(message));

        Assert.Equal(message.Answers, parsed.Answers);
        Assert.Equal(message.Authorities, parsed.Authorities);
        Assert.Equal(DnsResponseCode.NameError, parsed.ResponseCode);
        Assert.True(parsed.Authoritative);
        Assert.Equal((ushort)1232, parsed.EdnsUdpSize);
    }

    [Fact]
    public void Write_AnswersBeyondLimit_TruncatesAtRecordAndSetsFlag()
    {
        var answers = Enumerable.Range(1, 60).Select(i => new DnsRecord("many.shop.svc.cluster.local", DnsType.A, 5, new AddressData(IPAddress.Parse($"10.42.1.{i}")))).ToList();
        var message = new DnsMessage { Id = 3, IsResponse = true, Questions = [new DnsQuestion("many.shop.svc.cluster.local", DnsType.A)], Answers = answers };

        var bytes = DnsMessageWriter.Write(message, 512);
        var parsed = DnsMessageReader.Parse(bytes);

        Assert.True(bytes.Length <= 512);
        Assert.True(parsed.Truncated);
        Assert.InRange(parsed.Answers.Count, 1, 59);
    }

    [Fact]
    public void Parse_CompressionLoop_Throws()
    {
        byte[] looping = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];

        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Parse(looping));
    }

    [Fact]
    public void Parse_ShortMessage_Throws()
    {
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Parse(ExampleQuery.AsSpan(0, 20)));
    }
}
