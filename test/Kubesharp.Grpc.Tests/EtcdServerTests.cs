using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Kubesharp.Grpc.Tests.Etcd;

namespace Kubesharp.Grpc.Tests;

/// <summary>The client against a real gRPC server (etcd, grpc-go) on loopback.</summary>
public sealed class EtcdServerTests : IAsyncLifetime
{
    private static readonly Method<PutRequest, PutResponse> Put = new("/etcdserverpb.KV/Put", PutResponse.Parser);
    private static readonly Method<RangeRequest, RangeResponse> Range = new("/etcdserverpb.KV/Range", RangeResponse.Parser);
    private static readonly Method<WatchRequest, WatchResponse> Watch = new("/etcdserverpb.Watch/Watch", WatchResponse.Parser);

    private DirectoryInfo? dataDir;
    private Process? etcd;
    private string address = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/bin/etcd"))
        {
            return;
        }

        dataDir = Directory.CreateTempSubdirectory("grpc-etcd-");
        var clientPort = FreePort();
        var peerPort = FreePort();
        address = $"http://127.0.0.1:{clientPort}";
        var start = new ProcessStartInfo("/usr/bin/etcd")
        {
            ArgumentList =
            {
                "--data-dir", Path.Combine(dataDir.FullName, "data"),
                "--listen-client-urls", address, "--advertise-client-urls", address,
                "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
                "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
                "--initial-cluster", $"default=http://127.0.0.1:{peerPort}",
                "--log-level", "error",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        etcd = Process.Start(start)!;
        etcd.BeginErrorReadLine();
        etcd.BeginOutputReadLine();

        using var channel = GrpcChannel.ForAddress(address);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await channel.UnaryAsync(Range, new RangeRequest { Key = ByteString.CopyFromUtf8("probe") }, new CallOptions { Timeout = TimeSpan.FromSeconds(2) });
                return;
            }
            catch (RpcException) when (attempt < 100 && !etcd.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (etcd is not null)
        {
            etcd.Kill();
            await etcd.WaitForExitAsync();
            etcd.Dispose();
        }

        dataDir?.Delete(recursive: true);
    }

    [SkippableFactIfNoEtcd]
    public async Task UnaryAsync_PutThenRange_ReturnsStoredValue()
    {
        using var channel = GrpcChannel.ForAddress(address);

        var put = await channel.UnaryAsync(Put, new PutRequest { Key = Bytes("/a"), Value = Bytes("1") });
        var range = await channel.UnaryAsync(Range, new RangeRequest { Key = Bytes("/a") });

        Assert.True(put.Header.Revision > 0);
        Assert.Equal("1", Assert.Single(range.Kvs).Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision, range.Kvs[0].ModRevision);
    }

    [SkippableFactIfNoEtcd]
    public async Task UnaryAsync_UnknownMethod_ThrowsUnimplemented()
    {
        using var channel = GrpcChannel.ForAddress(address);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync("/etcdserverpb.KV/NoSuchMethod", new RangeRequest(), RangeResponse.Parser));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [SkippableFactIfNoEtcd]
    public async Task DuplexStreaming_Watch_DeliversPutsWhileRequestStreamStaysOpen()
    {
        using var channel = GrpcChannel.ForAddress(address);
        using var watch = channel.DuplexStreaming(Watch);

        await watch.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = Bytes("/w/"), RangeEnd = Bytes("/w0") } });
        var created = await watch.ReadNextAsync();
        Assert.True(created?.Created);

        await channel.UnaryAsync(Put, new PutRequest { Key = Bytes("/w/x"), Value = Bytes("v1") });
        var events = await watch.ReadNextAsync();
        Assert.Equal("/w/x", Assert.Single(events!.Events).Kv.Key.ToStringUtf8());

        await watch.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = created!.WatchId } });
        var canceled = await watch.ReadNextAsync();
        Assert.True(canceled?.Canceled);
    }

    private static ByteString Bytes(string value) => ByteString.CopyFromUtf8(value);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class SkippableFactIfNoEtcdAttribute : FactAttribute
    {
        public SkippableFactIfNoEtcdAttribute()
        {
            if (!File.Exists("/usr/bin/etcd"))
            {
                Skip = "etcd is not installed (/usr/bin/etcd); install the etcd-server package.";
            }
        }
    }
}
