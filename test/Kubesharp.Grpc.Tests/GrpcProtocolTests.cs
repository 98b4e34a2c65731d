using System.Net;
using Google.Protobuf.WellKnownTypes;

namespace Kubesharp.Grpc.Tests;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData(0.5, "500000n")]
    [InlineData(5000, "5000000u")]
    [InlineData(3_600_000, "3600000m")]
    [InlineData(1_000_000_000.0, "1000000S")]
    public void EncodeTimeout_Milliseconds_FitsEightDigits(double milliseconds, string expected)
    {
        Assert.Equal(expected, GrpcProtocol.EncodeTimeout(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void EncodeTimeout_PastDeadline_IsSmallestValue()
    {
        Assert.Equal("1n", GrpcProtocol.EncodeTimeout(TimeSpan.FromSeconds(-1)));
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.InternalServerError, StatusCode.Unknown)]
    public void FromHttpStatus_NonGrpcResponse_MapsLikeTheSpec(HttpStatusCode http, StatusCode expected)
    {
        Assert.Equal(expected, GrpcProtocol.FromHttpStatus(http));
    }

    [Fact]
    public async Task ReadMessageAsync_FramedMessage_RoundTrips()
    {
        var frame = GrpcFraming.Frame(new StringValue { Value = "abc" });
        using var stream = new MemoryStream([.. frame, .. frame]);

        var first = await GrpcFraming.ReadMessageAsync(stream, StringValue.Parser, 1024, null, CancellationToken.None);
        var second = await GrpcFraming.ReadMessageAsync(stream, StringValue.Parser, 1024, null, CancellationToken.None);
        var end = await GrpcFraming.ReadMessageAsync(stream, StringValue.Parser, 1024, null, CancellationToken.None);

        Assert.Equal(0, frame[0]);
        Assert.Equal(frame.Length - 5, frame[4]);
        Assert.Equal("abc", first?.Value);
        Assert.Equal("abc", second?.Value);
        Assert.Null(end);
    }

    [Fact]
    public async Task ReadMessageAsync_TruncatedMessage_ThrowsInternal()
    {
        var frame = GrpcFraming.Frame(new StringValue { Value = "abcdef" });
        using var stream = new MemoryStream(frame[..^2]);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await GrpcFraming.ReadMessageAsync(stream, StringValue.Parser, 1024, null, CancellationToken.None));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public void Metadata_BinaryValueUnderTextKey_IsRejected()
    {
        var metadata = new Metadata();

        Assert.Throws<ArgumentException>(() => metadata.Add("x-data", [1, 2]));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-data-bin", "text"));
    }
}
