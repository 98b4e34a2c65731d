namespace Kubesharp.Storage.Tests.Etcd;

public sealed class EtcdStoreConformanceTests(EtcdServer etcd) : StoreConformanceTests, IClassFixture<EtcdServer>
{
    // One etcd serves the whole class; every test writes under its own prefix.
    protected override async Task<IStore> OpenEmptyStoreAsync() => await etcd.OpenStoreAsync();
}
