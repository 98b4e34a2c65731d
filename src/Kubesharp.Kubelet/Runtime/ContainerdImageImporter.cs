using System.Text.RegularExpressions;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Runtime;

/// <summary>
/// Loads OCI or docker image archives into containerd's Kubernetes namespace (where the CRI plugin
/// looks), unpacked for the overlayfs snapshotter, and names images there (CRI has no tagging).
/// Uses containerd's own import tool against the socket.
/// </summary>
public sealed partial class ContainerdImageImporter
{
    /// <summary>The containerd namespace the CRI plugin keeps its images and containers in.</summary>
    public const string CriNamespace = "k8s.io";

    private readonly string ctrPath;
    private readonly string socketPath;

    public ContainerdImageImporter(string socketPath, string ctrPath = "/usr/bin/ctr")
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        this.socketPath = socketPath.StartsWith("unix://", StringComparison.Ordinal) ? socketPath["unix://".Length..] : socketPath;
        this.ctrPath = ctrPath;
    }

    /// <summary>
    /// An importer for the containerd of a data directory ("kubesharp images import"): an agent's, whose containerd
    /// is DIR/containerd, or the server's, whose node lives in DIR/agent.
    /// </summary>
    public static ContainerdImageImporter ForDataDir(string dataDir, string ctrPath = "/usr/bin/ctr") =>
        new(SocketForDataDir(dataDir), ctrPath);

    /// <summary>The containerd socket of an agent's or a server's data directory (the agent's when neither runs).</summary>
    public static string SocketForDataDir(string dataDir)
    {
        var agent = new ContainerdLayout(dataDir);
        var serversNode = new ContainerdLayout(Path.Combine(dataDir, ServerNodeDirectory));
        return !File.Exists(agent.Socket) && File.Exists(serversNode.Socket) ? serversNode.Socket : agent.Socket;
    }

    /// <summary>Where the server keeps its own node's files inside its data directory.</summary>
    public const string ServerNodeDirectory = "agent";

    /// <summary>Imports every image named in the archive; returns the names containerd stored.</summary>
    public async Task<IReadOnlyList<string>> ImportAsync(string archivePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        if (!File.Exists(archivePath))
        {
            throw new FileNotFoundException($"Image archive '{archivePath}' does not exist.", archivePath);
        }

        if (!File.Exists(socketPath))
        {
            throw new ContainerRuntimeUnavailableException($"no containerd socket at {socketPath}: is the node running with this data directory?");
        }

        if (!File.Exists(ctrPath))
        {
            throw new FileNotFoundException($"containerd's ctr tool was not found at {ctrPath}; install the containerd package.", ctrPath);
        }

        var (exitCode, stdout, stderr) = await ExternalCommand.RunAsync(
            ctrPath,
            ["--address", socketPath, "--namespace", CriNamespace, "images", "import", "--snapshotter", "overlayfs", Path.GetFullPath(archivePath)],
            cancellationToken);
        if (exitCode != 0)
        {
            throw new ImageImportException($"Importing '{archivePath}' failed: {(stderr.Length > 0 ? stderr : stdout).Trim()}");
        }

        return [.. UnpackedImage().Matches(stdout).Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Imports an archive and waits until the CRI image service reports each imported image.</summary>
    public async Task<IReadOnlyList<string>> ImportAndWaitAsync(
        string archivePath, IImageService images, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var names = await ImportAsync(archivePath, cancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        foreach (var name in names)
        {
            // The CRI plugin learns about imported images from containerd's events, slightly later.
            while (await images.ImageStatusAsync(new ImageSpec { Image = name }, linked.Token) is null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), timeProvider, linked.Token);
            }
        }

        return names;
    }

    /// <summary>Gives the image named <paramref name="source"/> the name <paramref name="target"/> too (replacing an older target).</summary>
    public Task TagAsync(string source, string target, CancellationToken cancellationToken = default) =>
        CtrAsync(["images", "tag", "--force", source, target], cancellationToken);

    /// <summary>Removes one name of an image; the image stays while other names refer to it.</summary>
    public Task RemoveNameAsync(string name, CancellationToken cancellationToken = default) =>
        CtrAsync(["images", "rm", name], cancellationToken);

    private async Task CtrAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, stderr) = await ExternalCommand.RunAsync(
            ctrPath, ["--address", socketPath, "--namespace", CriNamespace, .. arguments], cancellationToken);
        if (exitCode != 0)
        {
            throw new ImageImportException($"ctr {string.Join(' ', arguments)} failed: {(stderr.Length > 0 ? stderr : stdout).Trim()}");
        }
    }

    [GeneratedRegex(@"^unpacking (?<name>\S+) \(", RegexOptions.Multiline)]
    private static partial Regex UnpackedImage();
}
