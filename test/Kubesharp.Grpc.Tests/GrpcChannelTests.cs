using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Grpc.Tests;

public sealed class GrpcChannelTests
{
    private static readonly Method<StringValue, StringValue> Echo = new("/test.Echo/Upper", StringValue.Parser);
    private static readonly Method<Int32Value, Int32Value> Count = new("/test.Echo/Count", Int32Value.Parser);
    private static readonly Method<StringValue, StringValue> Chat = new("/test.Echo/Chat", StringValue.Parser);
    private static readonly Method<BytesValue, BytesValue> Bytes = new("/test.Echo/Bytes", BytesValue.Parser);

    private static void MapEcho(WebApplication app, ConcurrentQueue<string>? seenHeaders = null)
    {
        app.MapPost(Echo.FullName, async context =>
        {
            var request = await TestGrpcServer.ReadSingleAsync(context.Request, StringValue.Parser);
            foreach (var (key, value) in context.Request.Headers)
            {
                seenHeaders?.Enqueue($"{key.ToLowerInvariant()}={value}");
            }

            context.Response.Headers["x-reply"] = "yes";
            await TestGrpcServer.WriteMessageAsync(context.Response, new StringValue { Value = request.Value.ToUpperInvariant() });
            TestGrpcServer.Finish(context.Response);
        });
    }

    [Fact]
    public async Task UnaryAsync_OverTcp_ReturnsResponseAndSendsMetadata()
    {
        var headers = new ConcurrentQueue<string>();
        await using var server = await TestGrpcServer.StartAsync(app => MapEcho(app, headers));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var metadata = new Metadata { { "x-token", "abc" }, { "x-raw-bin", new byte[] { 1, 2, 3 } } };

        var response = await channel.UnaryAsync(Echo, new StringValue { Value = "hello" }, new CallOptions { Headers = metadata });

        Assert.Equal("HELLO", response.Value);
        Assert.Contains("x-token=abc", headers);
        Assert.Contains("x-raw-bin=AQID", headers);
        Assert.Contains("content-type=application/grpc", headers);
        Assert.Contains("te=trailers", headers);
    }

    [Fact]
    public async Task UnaryAsync_OverUnixSocket_ReturnsResponse()
    {
        var dir = Directory.CreateTempSubdirectory("grpc-test-");
        try
        {
            var socket = Path.Combine(dir.FullName, "s.sock");
            await using var server = await TestGrpcServer.StartAsync(app => MapEcho(app), socket);
            using var channel = GrpcChannel.ForAddress("unix://" + socket);

            var response = await channel.UnaryAsync("/test.Echo/Upper", new StringValue { Value = "unix" }, StringValue.Parser);

            Assert.Equal("UNIX", response.Value);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task UnaryAsync_StatusInTrailers_ThrowsRpcExceptionWithCodeAndDecodedMessage()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, async context =>
        {
            await TestGrpcServer.ReadSingleAsync(context.Request, StringValue.Parser);
            context.Response.ContentType = "application/grpc";
            context.Response.DeclareTrailer("grpc-status");
            await context.Response.StartAsync();
            context.Response.AppendTrailer("x-detail", "more");
            TestGrpcServer.Finish(context.Response, (int)StatusCode.NotFound, "key \"a/b\" not found: 100%");
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(Echo, new StringValue { Value = "x" }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("key \"a/b\" not found: 100%", error.Detail);
        Assert.Equal("more", error.Trailers.GetValue("x-detail"));
    }

    [Fact]
    public async Task UnaryAsync_TrailersOnlyResponse_ThrowsRpcExceptionWithCode()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, context =>
        {
            TestGrpcServer.TrailersOnly(context.Response, (int)StatusCode.Unavailable, "leader changed");
            return Task.CompletedTask;
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(Echo, new StringValue()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("leader changed", error.Detail);
    }

    [Fact]
    public async Task UnaryAsync_UnknownMethod_ThrowsUnimplemented()
    {
        await using var server = await TestGrpcServer.StartAsync(app => MapEcho(app));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync("/test.Echo/Missing", new StringValue(), StringValue.Parser));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task UnaryAsync_OkWithoutMessage_ThrowsInternal()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, context =>
        {
            TestGrpcServer.TrailersOnly(context.Response, 0, "");
            return Task.CompletedTask;
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(Echo, new StringValue()));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task UnaryAsync_ServerSlowerThanTimeout_SendsGrpcTimeoutAndThrowsDeadlineExceeded()
    {
        var timeoutHeader = new TaskCompletionSource<string>();
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, async context =>
        {
            timeoutHeader.TrySetResult(context.Request.Headers["grpc-timeout"].ToString());
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(Echo, new StringValue(), new CallOptions { Timeout = TimeSpan.FromSeconds(2) }));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // Long enough for the request to reach the handler on a loaded machine; bounded if it never did.
        Assert.Matches("^[0-9]{1,8}[numSMH]$", await timeoutHeader.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task UnaryAsync_CallerCancels_ThrowsOperationCanceled()
    {
        var started = new TaskCompletionSource();
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, async context =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var cancellation = new CancellationTokenSource();

        var call = channel.UnaryAsync(Echo, new StringValue(), cancellationToken: cancellation.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task UnaryAsync_NothingListening_ThrowsUnavailable()
    {
        using var channel = GrpcChannel.ForAddress("unix:///nonexistent/kubesharp-test.sock");

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(Echo, new StringValue()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task UnaryAsync_LargeMessages_RoundTripAcrossManyFrames()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Bytes.FullName, async context =>
        {
            var request = await TestGrpcServer.ReadSingleAsync(context.Request, BytesValue.Parser);
            var reversed = request.Value.ToByteArray();
            Array.Reverse(reversed);
            await TestGrpcServer.WriteMessageAsync(context.Response, new BytesValue { Value = ByteString.CopyFrom(reversed) });
            TestGrpcServer.Finish(context.Response);
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var payload = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(payload);

        var response = await channel.UnaryAsync(Bytes, new BytesValue { Value = ByteString.CopyFrom(payload) });

        Array.Reverse(payload);
        Assert.Equal(payload, response.Value.ToByteArray());
    }

    [Fact]
    public async Task UnaryAsync_ResponseOverLimit_ThrowsResourceExhausted()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Bytes.FullName, async context =>
        {
            await TestGrpcServer.ReadSingleAsync(context.Request, BytesValue.Parser);
            await TestGrpcServer.WriteMessageAsync(context.Response, new BytesValue { Value = ByteString.CopyFrom(new byte[2048]) });
            TestGrpcServer.Finish(context.Response);
        }));
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(Bytes, new BytesValue()));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task UnaryAsync_GzipCompressedResponse_IsDecompressed()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Echo.FullName, async context =>
        {
            await TestGrpcServer.ReadSingleAsync(context.Request, StringValue.Parser);
            context.Response.Headers["grpc-encoding"] = "gzip";
            await TestGrpcServer.WriteMessageAsync(context.Response, new StringValue { Value = "compressed" }, gzip: true);
            TestGrpcServer.Finish(context.Response);
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var response = await channel.UnaryAsync(Echo, new StringValue());

        Assert.Equal("compressed", response.Value);
    }

    private static void MapCount(WebApplication app) => app.MapPost(Count.FullName, async context =>
    {
        var request = await TestGrpcServer.ReadSingleAsync(context.Request, Int32Value.Parser);
        for (var i = 0; i < Math.Abs(request.Value); i++)
        {
            await TestGrpcServer.WriteMessageAsync(context.Response, new Int32Value { Value = i });
        }

        if (request.Value < 0)
        {
            TestGrpcServer.Finish(context.Response, (int)StatusCode.Aborted, "gave up");
        }
        else
        {
            TestGrpcServer.Finish(context.Response);
        }
    });

    [Fact]
    public async Task ServerStreamingAsync_ManyMessages_YieldsAllThenEnds()
    {
        await using var server = await TestGrpcServer.StartAsync(MapCount);
        using var channel = GrpcChannel.ForAddress(server.Address);

        var received = new List<int>();
        await foreach (var message in channel.ServerStreamingAsync(Count, new Int32Value { Value = 100 }))
        {
            received.Add(message.Value);
        }

        Assert.Equal(Enumerable.Range(0, 100), received);
    }

    [Fact]
    public async Task ServerStreamingAsync_ErrorAfterMessages_YieldsMessagesThenThrows()
    {
        await using var server = await TestGrpcServer.StartAsync(MapCount);
        using var channel = GrpcChannel.ForAddress(server.Address);

        var received = new List<int>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var message in channel.ServerStreamingAsync(Count, new Int32Value { Value = -3 }))
            {
                received.Add(message.Value);
            }
        });

        Assert.Equal([0, 1, 2], received);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("gave up", error.Detail);
    }

    [Fact]
    public async Task ServerStreamingAsync_ConsumerStopsEarly_ServerSeesStreamAborted()
    {
        var aborted = new TaskCompletionSource();
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Count.FullName, async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            await TestGrpcServer.ReadSingleAsync(context.Request, Int32Value.Parser);
            try
            {
                for (var i = 0; ; i++)
                {
                    await TestGrpcServer.WriteMessageAsync(context.Response, new Int32Value { Value = i });
                    await Task.Delay(10, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);

        await foreach (var message in channel.ServerStreamingAsync(Count, new Int32Value()))
        {
            if (message.Value == 2)
            {
                break;
            }
        }

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static void MapChat(WebApplication app) => app.MapPost(Chat.FullName, async context =>
    {
        context.Response.ContentType = "application/grpc";
        context.Response.DeclareTrailer("grpc-status");
        await context.Response.StartAsync();
        var count = 0;
        await foreach (var message in TestGrpcServer.ReadMessagesAsync(context.Request, StringValue.Parser))
        {
            count++;
            await TestGrpcServer.WriteMessageAsync(context.Response, new StringValue { Value = "re:" + message.Value });
        }

        await TestGrpcServer.WriteMessageAsync(context.Response, new StringValue { Value = $"total:{count}" });
        TestGrpcServer.Finish(context.Response);
    });

    [Fact]
    public async Task DuplexStreaming_EachReplyArrivesBeforeTheNextWrite()
    {
        await using var server = await TestGrpcServer.StartAsync(MapChat);
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreaming(Chat);

        for (var i = 0; i < 5; i++)
        {
            await call.WriteAsync(new StringValue { Value = $"m{i}" });
            var reply = await call.ReadNextAsync();
            Assert.Equal($"re:m{i}", reply?.Value);
        }

        await call.CompleteRequestAsync();
        Assert.Equal("total:5", (await call.ReadNextAsync())?.Value);
        Assert.Null(await call.ReadNextAsync());
        Assert.Equal("0", call.GetTrailers().GetValue("grpc-status"));
    }

    [Fact]
    public async Task DuplexStreaming_OverUnixSocket_ReadAllAfterWrites()
    {
        var dir = Directory.CreateTempSubdirectory("grpc-test-");
        try
        {
            var socket = Path.Combine(dir.FullName, "s.sock");
            await using var server = await TestGrpcServer.StartAsync(MapChat, socket);
            using var channel = GrpcChannel.ForAddress("unix:" + socket);
            using var call = channel.DuplexStreaming(Chat);

            await call.WriteAsync(new StringValue { Value = "a" });
            await call.WriteAsync(new StringValue { Value = "b" });
            await call.CompleteRequestAsync();
            var replies = new List<string>();
            await foreach (var reply in call.ReadAllAsync())
            {
                replies.Add(reply.Value);
            }

            Assert.Equal(["re:a", "re:b", "total:2"], replies);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DuplexStreaming_ServerFailsImmediately_ReadAndWriteReportStatus()
    {
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Chat.FullName, context =>
        {
            TestGrpcServer.TrailersOnly(context.Response, (int)StatusCode.PermissionDenied, "no");
            return Task.CompletedTask;
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var call = channel.DuplexStreaming(Chat);

        var readError = await Assert.ThrowsAsync<RpcException>(async () => await call.ReadNextAsync());
        var writeError = await Assert.ThrowsAnyAsync<Exception>(() => call.WriteAsync(new StringValue { Value = "late" }));

        Assert.Equal(StatusCode.PermissionDenied, readError.StatusCode);
        Assert.True(writeError is RpcException or InvalidOperationException, writeError.ToString());
    }

    [Fact]
    public async Task DuplexStreaming_DisposedMidStream_ServerSeesAbort()
    {
        var aborted = new TaskCompletionSource();
        var firstMessage = new TaskCompletionSource();
        await using var server = await TestGrpcServer.StartAsync(app => app.MapPost(Chat.FullName, async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            context.Response.ContentType = "application/grpc";
            await context.Response.StartAsync();
            try
            {
                await foreach (var message in TestGrpcServer.ReadMessagesAsync(context.Request, StringValue.Parser))
                {
                    firstMessage.TrySetResult();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
            {
            }
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var call = channel.DuplexStreaming(Chat);
        await call.WriteAsync(new StringValue { Value = "watch" });
        await firstMessage.Task.WaitAsync(TimeSpan.FromSeconds(30));

        call.Dispose();

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Channel_ManyConcurrentCalls_AllSucceed()
    {
        await using var server = await TestGrpcServer.StartAsync(app => MapEcho(app));
        using var channel = GrpcChannel.ForAddress(server.Address);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            channel.UnaryAsync(Echo, new StringValue { Value = $"v{i}" })));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"V{i}"), results.Select(r => r.Value));
    }
}
