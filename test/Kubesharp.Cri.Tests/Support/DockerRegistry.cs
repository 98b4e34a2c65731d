using System.Diagnostics;
using System.Net;
using Kubesharp.Storage.Tests;

namespace Kubesharp.Cri.Tests.Support;

/// <summary>
/// Debian's docker-registry on a free loopback port with its storage in a temp dir; with an htpasswd line it serves
/// only requests that carry that user's basic-auth credentials.
/// </summary>
public sealed class DockerRegistry : IAsyncDisposable
{
    public const string BinaryPath = "/usr/bin/docker-registry";

    private readonly Process process;
    private readonly DirectoryInfo directory;

    private DockerRegistry(Process process, DirectoryInfo directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:port", the registry host part of image names.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{Host}/");

    public static async Task<DockerRegistry> StartAsync(CancellationToken cancellationToken = default) => await StartAsync(null, cancellationToken);

    /// <param name="htpasswd">A bcrypt htpasswd line ("user:$2y$…"); null serves everyone.</param>
    public static async Task<DockerRegistry> StartAsync(string? htpasswd, CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("ks-registry-");
        var port = LoopbackPort.Free();
        var config = Path.Combine(directory.FullName, "config.yml");
        var auth = "";
        if (htpasswd is not null)
        {
            var file = Path.Combine(directory.FullName, "htpasswd");
            await File.WriteAllTextAsync(file, htpasswd.TrimEnd() + "\n", cancellationToken);
            auth = $"auth:\n  htpasswd:\n    realm: kubesharp-test\n    path: {file}\n";
        }

        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory.FullName, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            {auth}
            """, cancellationToken);
        var start = new ProcessStartInfo(BinaryPath)
        {
            ArgumentList = { "serve", config },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var registry = new DockerRegistry(process, directory, port);
        using var http = new HttpClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(registry.BaseAddress, "v2/"), cancellationToken);
                if (response.IsSuccessStatusCode || (htpasswd is not null && response.StatusCode == HttpStatusCode.Unauthorized))
                {
                    return registry;
                }
            }
            catch (HttpRequestException) when (attempt < 200 && !process.HasExited)
            {
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
        directory.Delete(recursive: true);
    }
}
