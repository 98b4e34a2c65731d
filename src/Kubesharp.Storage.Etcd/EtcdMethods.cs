using Kubesharp.Grpc;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Storage.Etcd;

/// <summary>The etcd v3 remote procedures the store calls.</summary>
public static class EtcdMethods
{
    public static readonly Method<RangeRequest, RangeResponse> Range = new("/etcdserverpb.KV/Range", RangeResponse.Parser);
    public static readonly Method<PutRequest, PutResponse> Put = new("/etcdserverpb.KV/Put", PutResponse.Parser);
    public static readonly Method<DeleteRangeRequest, DeleteRangeResponse> DeleteRange = new("/etcdserverpb.KV/DeleteRange", DeleteRangeResponse.Parser);
    public static readonly Method<TxnRequest, TxnResponse> Txn = new("/etcdserverpb.KV/Txn", TxnResponse.Parser);
    public static readonly Method<CompactionRequest, CompactionResponse> Compact = new("/etcdserverpb.KV/Compact", CompactionResponse.Parser);
    public static readonly Method<WatchRequest, WatchResponse> Watch = new("/etcdserverpb.Watch/Watch", WatchResponse.Parser);
    public static readonly Method<StatusRequest, StatusResponse> Status = new("/etcdserverpb.Maintenance/Status", StatusResponse.Parser);
    public static readonly Method<SnapshotRequest, SnapshotResponse> Snapshot = new("/etcdserverpb.Maintenance/Snapshot", SnapshotResponse.Parser);
    public static readonly Method<MemberAddRequest, MemberAddResponse> MemberAdd = new("/etcdserverpb.Cluster/MemberAdd", MemberAddResponse.Parser);
    public static readonly Method<MemberRemoveRequest, MemberRemoveResponse> MemberRemove = new("/etcdserverpb.Cluster/MemberRemove", MemberRemoveResponse.Parser);
    public static readonly Method<MemberListRequest, MemberListResponse> MemberList = new("/etcdserverpb.Cluster/MemberList", MemberListResponse.Parser);
}
