using System.Diagnostics;
using Kubesharp.Bench.Common;
using Kubesharp.Cri.V1;

namespace Kubesharp.Bench.Grpc;

/// <summary>A pod's whole life through CRI calls (host network, so no CNI): what a kubelet sends to start and end one pod.</summary>
internal sealed class PodCycle(Transport[] clients, string image, string logDirectory)
{
    private static readonly BenchMethod<RunPodSandboxRequest, RunPodSandboxResponse> RunPodSandbox = new("/runtime.v1.RuntimeService/RunPodSandbox", RunPodSandboxResponse.Parser);
    private static readonly BenchMethod<StopPodSandboxRequest, StopPodSandboxResponse> StopPodSandbox = new("/runtime.v1.RuntimeService/StopPodSandbox", StopPodSandboxResponse.Parser);
    private static readonly BenchMethod<RemovePodSandboxRequest, RemovePodSandboxResponse> RemovePodSandbox = new("/runtime.v1.RuntimeService/RemovePodSandbox", RemovePodSandboxResponse.Parser);
    private static readonly BenchMethod<ListPodSandboxRequest, ListPodSandboxResponse> ListPodSandbox = new("/runtime.v1.RuntimeService/ListPodSandbox", ListPodSandboxResponse.Parser);
    private static readonly BenchMethod<CreateContainerRequest, CreateContainerResponse> CreateContainer = new("/runtime.v1.RuntimeService/CreateContainer", CreateContainerResponse.Parser);
    private static readonly BenchMethod<StartContainerRequest, StartContainerResponse> StartContainer = new("/runtime.v1.RuntimeService/StartContainer", StartContainerResponse.Parser);
    private static readonly BenchMethod<StopContainerRequest, StopContainerResponse> StopContainer = new("/runtime.v1.RuntimeService/StopContainer", StopContainerResponse.Parser);
    private static readonly BenchMethod<RemoveContainerRequest, RemoveContainerResponse> RemoveContainer = new("/runtime.v1.RuntimeService/RemoveContainer", RemoveContainerResponse.Parser);
    private int sequence;

    /// <summary>Runs a sandbox with one started container; returns the sandbox's ID and the container's.</summary>
    public async Task<(string Sandbox, string Container)> StartPodAsync(Transport client, string name, CancellationToken cancellationToken)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "grpc-bench", Uid = Guid.NewGuid().ToString(), Attempt = 0 },
            LogDirectory = Path.Combine(logDirectory, name),
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod },
                },
            },
        };
        var sandbox = (await client.CallAsync(RunPodSandbox, new RunPodSandboxRequest { Config = config }, cancellationToken)).PodSandboxId;
        var container = (await client.CallAsync(
            CreateContainer,
            new CreateContainerRequest
            {
                PodSandboxId = sandbox,
                Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = "c" }, Image = new ImageSpec { Image = image }, LogPath = "c/0.log" },
                SandboxConfig = config,
            },
            cancellationToken)).ContainerId;
        await client.CallAsync(StartContainer, new StartContainerRequest { ContainerId = container }, cancellationToken);
        return (sandbox, container);
    }

    /// <summary>Start-to-removed cycles, one pod at a time, through each client in turn; per-cycle milliseconds and bytes.</summary>
    public async Task<(string, CallFigures, CallFigures)> CompareAsync(int cycles, int rounds, CancellationToken cancellationToken)
    {
        var results = new List<CallFigures>[] { [], [] };
        for (var round = 0; round < rounds; round++)
        {
            foreach (var index in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
            {
                results[index].Add(await MeasureAsync(clients[index], cycles, cancellationToken));
            }
        }

        return ("CRI pod cycle (7 calls)", Best(results[0]), Best(results[1]));
    }

    /// <summary>Stops and removes every sandbox (and so its containers).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        var sandboxes = await clients[0].CallAsync(ListPodSandbox, new ListPodSandboxRequest(), cancellationToken);
        foreach (var sandbox in sandboxes.Items)
        {
            await clients[0].CallAsync(StopPodSandbox, new StopPodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken);
            await clients[0].CallAsync(RemovePodSandbox, new RemovePodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken);
        }
    }

    private async Task<CallFigures> MeasureAsync(Transport client, int cycles, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < cycles; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var (sandbox, container) = await StartPodAsync(client, $"cycle-{Interlocked.Increment(ref sequence)}", cancellationToken);
            await client.CallAsync(StopContainer, new StopContainerRequest { ContainerId = container, Timeout = 10 }, cancellationToken);
            await client.CallAsync(RemoveContainer, new RemoveContainerRequest { ContainerId = container }, cancellationToken);
            await client.CallAsync(StopPodSandbox, new StopPodSandboxRequest { PodSandboxId = sandbox }, cancellationToken);
            await client.CallAsync(RemovePodSandbox, new RemovePodSandboxRequest { PodSandboxId = sandbox }, cancellationToken);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        return new CallFigures(
            cycles / elapsed,
            BenchmarkReport.Percentile(latencies, 0.5),
            BenchmarkReport.Percentile(latencies, 0.99),
            (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / cycles);
    }

    private static CallFigures Best(List<CallFigures> figures) => new(
        figures.Max(f => f.RequestsPerSecond), figures.Min(f => f.P50Milliseconds), figures.Min(f => f.P99Milliseconds), figures.Min(f => f.BytesPerCall));
}
