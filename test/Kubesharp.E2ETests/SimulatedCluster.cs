using System.Diagnostics;
using System.Globalization;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server --disable-agent --simulated-nodes 5</c> process (started as <see cref="KubectlServer"/>
/// starts it) apart from the shared one, since these tests cordon and drain its nodes, and the real kubectl (and <c>kubesharp</c> verbs) run against it.
/// </summary>
public sealed class SimulatedCluster : IAsyncLifetime
{
    public const int Nodes = 5;

    private Process? server;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kubesharp-sim-" + Guid.NewGuid().ToString("N"));

    public string Kubeconfig => Path.Combine(DataDir, "kubeconfig.yaml");

    public static IEnumerable<string> NodeNames => Enumerable.Range(0, Nodes).Select(i => "sim-node-" + i.ToString(CultureInfo.InvariantCulture));

    public async Task InitializeAsync()
    {
        // Autoscalers are evaluated every second so scaling tests see their effect without waiting the default 15 s.
        server = await KubectlServer.StartAsync(DataDir, ["--disable-agent", "--simulated-nodes", Nodes.ToString(CultureInfo.InvariantCulture), "--horizontal-pod-autoscaler-sync-period", "1s", "--simulated-node-pods", "250"]);

        // The simulated nodes register right after the API is ready: wait (bounded) until all five exist and are Ready.
        for (var i = 0; i < 120; i++)
        {
            var nodes = await KubectlAsync("get", "nodes", "-o", "name");
            if (nodes.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= Nodes)
            {
                break;
            }

            await Task.Delay(250);
        }

        (await KubectlAsync("wait", "--for=condition=Ready", "node", "--all", "--timeout=60s")).Ok();
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await KubectlServer.StopAsync(server);
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public Task<Kubectl.Result> KubectlAsync(params string[] args) => RunAsync("kubectl", args, null);

    public Task<Kubectl.Result> KubectlAsync(string[] args, string stdin) => RunAsync("kubectl", args, stdin);

    /// <summary>Runs a <c>kubesharp</c> verb (the built executable) against this cluster.</summary>
    public Task<Kubectl.Result> KubesharpAsync(params string[] args) => ChildProcess.RunKubesharpAsync(args, ClientEnvironment(), TimeSpan.FromSeconds(300));

    private Task<Kubectl.Result> RunAsync(string file, string[] args, string? stdin) =>
        ChildProcess.RunAsync(file, args, ClientEnvironment(), stdin, TimeSpan.FromSeconds(300));

    private Dictionary<string, string> ClientEnvironment() => new() { ["KUBECONFIG"] = Kubeconfig, ["HOME"] = DataDir };
}

[CollectionDefinition(Name)]
public sealed class SimulatedClusterCollection : ICollectionFixture<SimulatedCluster>
{
    public const string Name = "simulated-cluster";
}
