using Google.Protobuf;
using Grpc.Net.Client;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Bench.Storage;

/// <summary>etcd without the store: the same create-if-absent transaction and range sent straight over gRPC (Grpc.Net.Client, as the store).</summary>
internal sealed class RawEtcdTarget : LoadTarget
{
    private readonly GrpcChannel _channel;
    private readonly KV.KVClient _kv;

    public RawEtcdTarget(string endpoint)
    {
        _channel = GrpcChannel.ForAddress("http://" + endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        _kv = new KV.KVClient(_channel);
    }

    public override string Name => "etcd, raw gRPC";

    public override async Task CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var encoded = ByteString.CopyFromUtf8(key);
        var request = new TxnRequest
        {
            Compare = { new Compare { Key = encoded, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = encoded, Value = UnsafeByteOperations.UnsafeWrap(value) } } },
        };
        var response = await _kv.TxnAsync(request, cancellationToken: cancellationToken);
        if (!response.Succeeded)
        {
            throw new InvalidOperationException($"{key} exists");
        }
    }

    public override async Task<int> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var start = System.Text.Encoding.UTF8.GetBytes(prefix);
        var end = (byte[])start.Clone();
        end[^1]++;
        var response = await _kv.RangeAsync(
            new RangeRequest { Key = ByteString.CopyFrom(start), RangeEnd = ByteString.CopyFrom(end) },
            cancellationToken: cancellationToken);
        return response.Kvs.Count;
    }

    public override ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
