using System.Diagnostics;
using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Stopping the server while nodes hold watches open (every agent does).</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task DisposeAsync_WatchOpen_EndsTheWatchAndStopsPromptly()
    {
        var server = new TestServer();
        await server.InitializeAsync();
        // A client of its own: the server's clients are disposed with it, which would end the watch from this side.
        using var watcher = server.CertificateClient(server.Host.Certificates.AdminCertificatePem, server.Host.Certificates.AdminKeyPem);
        using var response = await watcher.GetAsync("/api/v1/namespaces?watch=true&timeoutSeconds=600", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("\"ADDED\"", await reader.ReadLineAsync(), StringComparison.Ordinal);

        var watch = Stopwatch.StartNew();
        var stopping = server.DisposeAsync();
        var ended = EndOfStreamAsync(reader);
        await ended.WaitAsync(TimeSpan.FromSeconds(60));
        var watchEnded = watch.Elapsed;
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        // Without closing its watches the host would wait for them until its 30-second shutdown timeout.
        Assert.True(watchEnded < TimeSpan.FromSeconds(15), $"the watch ended {watchEnded.TotalSeconds:F1} s after the server began to stop");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the server took {watch.Elapsed.TotalSeconds:F1} s to stop");
    }

    private static async Task EndOfStreamAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // Ended by the server: a reset is an end too.
        }
    }
}
