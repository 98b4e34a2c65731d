using System.Net;
using System.Net.Sockets;
using System.Text;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.Storage.Tests.Etcd;

/// <summary>The store with several member addresses, one of which refuses connections, against a real etcd.</summary>
public sealed class EtcdFailoverTests(EtcdServer etcd) : IClassFixture<EtcdServer>
{
    [Fact]
    public async Task Open_FirstMemberRefusesConnections_ReadsAndWritesGoToTheNextMember()
    {
        // A port that was free a moment ago: nothing listens there, so connecting is refused.
        var refused = $"127.0.0.1:{LoopbackPort.Free()}";
        var options = new EtcdStoreOptions { Endpoints = [refused, etcd.Endpoint], RequestTimeout = TimeSpan.FromSeconds(15) };

        await using var store = await EtcdStore.OpenAsync(options, default);
        var key = $"/failover/{Guid.NewGuid():N}";
        var created = await store.CreateAsync(key, Encoding.UTF8.GetBytes("one"), default);

        var read = await store.GetAsync(key, 0, default);
        Assert.Equal(created.ModRevision, read!.ModRevision);
        Assert.Equal("one", Encoding.UTF8.GetString(read.Value.Span));
    }

    [Fact]
    public async Task Open_EveryMemberRefusesConnections_ThrowsStoreUnavailableNamingTheCause()
    {
        var options = new EtcdStoreOptions
        {
            Endpoints = [$"127.0.0.1:{LoopbackPort.Free()}", $"127.0.0.1:{LoopbackPort.Free()}"],
            RequestTimeout = TimeSpan.FromSeconds(15),
        };

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => EtcdStore.OpenAsync(options, default));

        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Open_MemberAcceptsButNeverAnswers_DeadlineIsStoreUnavailableNotCancellation()
    {
        // A listener that takes connections and never speaks HTTP/2: every call runs into its deadline.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen();
        var options = new EtcdStoreOptions
        {
            Endpoints = [$"127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}"],
            RequestTimeout = TimeSpan.FromMilliseconds(500),
        };

        // A deadline is an unreachable member; a cancellation would read as a caller that gave up (a server stops).
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => EtcdStore.OpenAsync(options, default));

        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Get_CallerCancels_ThrowsOperationCanceled()
    {
        await using var store = await etcd.OpenStoreAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetAsync("/failover/none", 0, cancelled.Token));
    }
}
