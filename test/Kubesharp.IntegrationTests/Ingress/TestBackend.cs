using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>
/// A real HTTP server on a loopback port that answers with its name, the path, the Host, the query and the X-Test-*
/// headers it was sent, and sends X-Backend and X-Backend-Extra response headers (for header filters to change). It
/// records what it was sent (<see cref="Received"/>); a path under <c>/slow</c> is answered only when the request is aborted,
/// one under <c>/stream</c> with a first line at once and a second once <see cref="ReleaseStream"/> is called.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly TaskCompletionSource streamReleased;

    private TestBackend(WebApplication app, string name, int port, ConcurrentQueue<string> received, TaskCompletionSource streamReleased)
    {
        this.app = app;
        this.streamReleased = streamReleased;
        Name = name;
        Port = port;
        Received = received;
    }

    public string Name { get; }

    public int Port { get; }

    /// <summary>"METHOD path body" of every request, in arrival order.</summary>
    public ConcurrentQueue<string> Received { get; }

    /// <summary>Lets the <c>/stream</c> answers send their second line.</summary>
    public void ReleaseStream() => streamReleased.TrySetResult();

    public static async Task<TestBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var received = new ConcurrentQueue<string>();
        var streamReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Run(async context =>
        {
            var request = context.Request;
            using (var reader = new StreamReader(request.Body))
            {
                received.Enqueue($"{request.Method} {request.Path} {await reader.ReadToEndAsync(context.RequestAborted)}");
            }

            if (request.Path.StartsWithSegments("/slow", StringComparison.Ordinal))
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            if (request.Path.StartsWithSegments("/stream", StringComparison.Ordinal))
            {
                await context.Response.WriteAsync("first\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await streamReleased.Task.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("second\n", context.RequestAborted);
                return;
            }

            var test = string.Join(';', request.Headers.Where(h => h.Key.StartsWith("X-Test", StringComparison.OrdinalIgnoreCase))
                .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key.ToLowerInvariant()}:{h.Value}"));
            context.Response.Headers["X-Backend"] = name;
            context.Response.Headers["X-Backend-Extra"] = "extra";
            await context.Response.WriteAsync($"{name} {request.Path} host={request.Host} proto={request.Headers["X-Forwarded-Proto"]} query={request.QueryString} test={test}");
        });
        await app.StartAsync();
        var address = app.Urls.First();
        return new TestBackend(app, name, new Uri(address).Port, received, streamReleased);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
