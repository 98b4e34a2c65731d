using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Kubelet.Images;

namespace Kubesharp.Bench.Pods;

/// <summary>
/// The peer: a dockerd this program starts with its own data root, exec root, PID file and unix socket, as a
/// single-node swarm advertising and listening on loopback. Stopped by its PID; its iptables chains, bridges
/// and state are removed at the end (docker-cleanup.sh).
/// </summary>
internal sealed class DockerSwarm : IAsyncDisposable
{
    private const string Docker = "/usr/bin/docker";
    private readonly Process process;
    private readonly string directory;
    private readonly string socket;

    private string forwardPolicy = "ACCEPT";

    private DockerSwarm(Process process, string directory)
    {
        this.process = process;
        this.directory = directory;
        socket = Path.Combine(directory, "docker.sock");
    }

    public string Version { get; private set; } = "";

    /// <summary>Null when dockerd can run here; otherwise why not.</summary>
    public static string? Unavailable() =>
        File.Exists("/usr/sbin/dockerd") && File.Exists(Docker) ? null : "dockerd is not installed (Debian package docker.io)";

    public static async Task<DockerSwarm> StartAsync(string directory, string dockerArchive, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        // dockerd may set the FORWARD policy to DROP; the host's policy is put back when it is stopped.
        var (_, forward, _) = await HostCommand.RunAsync("iptables", ["-S", "FORWARD"], cancellationToken: cancellationToken);
        var policy = forward.Split('\n').FirstOrDefault(l => l.StartsWith("-P FORWARD ", StringComparison.Ordinal))?["-P FORWARD ".Length..].Trim();
        var info = new ProcessStartInfo("/usr/sbin/dockerd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--data-root", Path.Combine(directory, "data"), "--exec-root", Path.Combine(directory, "exec"),
            "--pidfile", Path.Combine(directory, "docker.pid"), "-H", "unix://" + Path.Combine(directory, "docker.sock"),
        })
        {
            info.ArgumentList.Add(argument);
        }

        var log = new StreamWriter(Path.Combine(directory, "dockerd.log")) { AutoFlush = true };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var swarm = new DockerSwarm(process, directory) { forwardPolicy = policy is "ACCEPT" or "DROP" ? policy : "ACCEPT" };
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"dockerd exited with {process.ExitCode}: {LastLines(Path.Combine(directory, "dockerd.log"))}");
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"dockerd did not answer within 60 s: {LastLines(Path.Combine(directory, "dockerd.log"))}");
                }

                var (code, output, _) = await swarm.DockerAsync(["version", "--format", "{{.Server.Version}}"], check: false, cancellationToken: cancellationToken);
                if (code == 0)
                {
                    swarm.Version = output.Trim();
                    break;
                }

                await Task.Delay(200, cancellationToken);
            }

            await swarm.DockerAsync(["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"], cancellationToken: cancellationToken);
            await swarm.DockerAsync(["load", "-i", dockerArchive], cancellationToken: cancellationToken);
            return swarm;
        }
        catch
        {
            await swarm.DisposeAsync();
            throw;
        }
    }

    /// <summary>Seconds from <c>docker service create --replicas N</c> until N tasks run.</summary>
    public async Task<double> CreateServiceAsync(string name, int replicas, string image, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await DockerAsync(["service", "create", "--detach", "--no-resolve-image", "--name", name, "--replicas", replicas.ToString(CultureInfo.InvariantCulture), "--stop-grace-period", "1s", image], cancellationToken: cancellationToken);
        await WaitAsync(async () => (await DockerAsync(["service", "ls", "--filter", "name=" + name, "--format", "{{.Replicas}}"], cancellationToken: cancellationToken)).Output.Trim() == $"{replicas}/{replicas}", cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Seconds from <c>docker service update --image</c> until swarm reports the rolling update completed.</summary>
    public async Task<double> UpdateImageAsync(string name, string image, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await DockerAsync(["service", "update", "--detach", "--no-resolve-image", "--image", image, name], cancellationToken: cancellationToken);
        await WaitAsync(async () => (await DockerAsync(["service", "inspect", name, "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}"], cancellationToken: cancellationToken)).Output.Trim() == "completed", cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Removes the service and waits (bounded) until none of its containers is left.</summary>
    public async Task RemoveServiceAsync(string name, CancellationToken cancellationToken)
    {
        await DockerAsync(["service", "rm", name], cancellationToken: cancellationToken);
        await WaitAsync(async () => (await DockerAsync(["ps", "-aq"], cancellationToken: cancellationToken)).Output.Trim().Length == 0, cancellationToken);
    }

    /// <summary>Writes images as a docker-save archive (manifest.json, configs, layers): what dockerd 20.10 loads.</summary>
    public static async Task WriteDockerArchiveAsync(string path, IReadOnlyList<OciImage> images, CancellationToken cancellationToken)
    {
        await using var file = File.Create(path);
        await using var tar = new TarWriter(file, TarEntryFormat.Ustar);
        var manifest = new JsonArray();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            var tag = image.Name.StartsWith("docker.io/", StringComparison.Ordinal) ? image.Name["docker.io/".Length..] : image.Name;
            manifest.Add(new JsonObject
            {
                ["Config"] = BlobPath(image.Config),
                ["RepoTags"] = new JsonArray(tag),
                ["Layers"] = new JsonArray([.. image.Layers.Select(l => (JsonNode?)BlobPath(l))]),
            });
            foreach (var blob in image.Layers.Append(image.Config))
            {
                if (written.Add(blob.Digest))
                {
                    await WriteEntryAsync(tar, BlobPath(blob), blob.Content, cancellationToken);
                }
            }
        }

        await WriteEntryAsync(tar, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var (_, services, _) = await DockerAsync(["service", "ls", "-q"], check: false);
            foreach (var service in services.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await DockerAsync(["service", "rm", service], check: false);
            }

            await DockerAsync(["swarm", "leave", "--force"], check: false);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"swarm cleanup: {e.Message}");
        }

        await HostCommand.StopAsync(process, TimeSpan.FromSeconds(30));
        process.Dispose();
        // Shims and docker's own containerd run under the exec root; they were started for this run.
        HostCommand.KillProcessesMentioning(directory);
        await HostCommand.RunAsync(Path.Combine(AppContext.BaseDirectory, "docker-cleanup.sh"), [directory]);
        await HostCommand.RunAsync("iptables", ["-P", "FORWARD", forwardPolicy]);
    }

    private async Task<(int ExitCode, string Output, string Error)> DockerAsync(string[] arguments, bool check = true, CancellationToken cancellationToken = default)
    {
        var result = await HostCommand.RunAsync(Docker, ["-H", "unix://" + socket, .. arguments], TimeSpan.FromMinutes(2), cancellationToken);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"docker {string.Join(' ', arguments)}: {result.Error.Trim()}");
        }

        return result;
    }

    private static async Task WaitAsync(Func<Task<bool>> done, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("docker swarm did not reach the expected state within 5 minutes");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static string BlobPath(OciBlob blob) => "blobs/sha256/" + blob.Digest["sha256:".Length..];

    private static async Task WriteEntryAsync(TarWriter tar, string name, byte[] content, CancellationToken cancellationToken)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
        await tar.WriteEntryAsync(entry, cancellationToken);
    }

    private static string LastLines(string path) =>
        File.Exists(path) ? string.Join(" | ", File.ReadLines(path).TakeLast(3)) : "";

    private static void Write(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }
}
