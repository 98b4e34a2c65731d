using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Cri.Tests.Support;

/// <summary>Debian's docker-registry on a free loopback port with its storage in a temp dir.</summary>
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

    public static async Task<DockerRegistry> StartAsync(CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("ks-registry-");
        var port = FreePort();
        var config = Path.Combine(directory.FullName, "config.yml");
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
                if (response.IsSuccessStatusCode)
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
