using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Bench.Ha;

/// <summary>
/// Three plain etcd processes on loopback (plain HTTP) with the embedded members' heartbeat and election timeout:
/// the peer that the servers' failover time is set beside.
/// </summary>
internal sealed class RawEtcdCluster : IAsyncDisposable
{
    private readonly string executable;
    private readonly string directory;
    private readonly Member[] members;

    private RawEtcdCluster(string executable, string directory)
    {
        this.executable = executable;
        this.directory = directory;
        members = [.. Enumerable.Range(0, 3).Select(i => new Member($"raw{i}", FreePorts.Next(), FreePorts.Next()))];
    }

    public static async Task<RawEtcdCluster> StartAsync(string executable, string directory, string heartbeatMs, string electionMs)
    {
        var cluster = new RawEtcdCluster(executable, directory);
        foreach (var member in cluster.members)
        {
            cluster.Start(member, heartbeatMs, electionMs);
        }

        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(60));
        return cluster;
    }

    /// <summary>
    /// SIGKILL to the leader, then a put through a survivor every 50 ms (each given at most 2 s) until one is
    /// acknowledged; the killed member is started again and the cluster waited on before this returns.
    /// </summary>
    public async Task<double> KillLeaderAndTimeFailoverAsync(string heartbeatMs, string electionMs, long round)
    {
        var leader = await WaitForLeaderAsync(TimeSpan.FromSeconds(60));
        var survivor = members.First(m => m != leader);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{survivor.ClientPort}");
        var clock = Stopwatch.StartNew();
        leader.Process!.Kill();
        await leader.Process.WaitForExitAsync();
        while (true)
        {
            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await new KV.KVClient(channel).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"/failover/{round}"), Value = ByteString.CopyFromUtf8("x") }, cancellationToken: attempt.Token);
                break;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(50);
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        leader.Process.Dispose();
        Start(leader, heartbeatMs, electionMs);
        await WaitForLeaderAsync(TimeSpan.FromSeconds(60));
        return seconds;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in members)
        {
            if (member.Process is { HasExited: false } running)
            {
                running.Kill();
                await running.WaitForExitAsync();
            }

            member.Process?.Dispose();
        }

        Directory.Delete(directory, recursive: true);
    }

    private void Start(Member member, string heartbeatMs, string electionMs)
    {
        var initial = string.Join(',', members.Select(m => $"{m.Name}=http://127.0.0.1:{m.PeerPort}"));
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--name", member.Name, "--data-dir", Path.Combine(directory, member.Name),
            "--listen-client-urls", $"http://127.0.0.1:{member.ClientPort}", "--advertise-client-urls", $"http://127.0.0.1:{member.ClientPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{member.PeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{member.PeerPort}",
            "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", "bench-raw",
            "--heartbeat-interval", heartbeatMs, "--election-timeout", electionMs, "--log-level", "error",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        member.Process = process;
    }

    /// <summary>The member every running member names as leader, once all three agree.</summary>
    private async Task<Member> WaitForLeaderAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var seen = new List<(Member Member, ulong Id, ulong Leader)>();
            foreach (var member in members)
            {
                using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{member.ClientPort}");
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), cancellationToken: attempt.Token);
                    seen.Add((member, status.Header.MemberId, status.Leader));
                }
                catch (Exception)
                {
                }
            }

            if (seen.Count == members.Length && seen.All(s => s.Leader != 0 && s.Leader == seen[0].Leader) && seen.FirstOrDefault(s => s.Id == seen[0].Leader) is { Member: not null } leader)
            {
                return leader.Member;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"the raw etcd cluster had no agreed leader within {timeout.TotalSeconds} s"));
            }

            await Task.Delay(100);
        }
    }

    private sealed class Member(string name, int clientPort, int peerPort)
    {
        public string Name { get; } = name;

        public int ClientPort { get; } = clientPort;

        public int PeerPort { get; } = peerPort;

        public Process? Process { get; set; }
    }
}
