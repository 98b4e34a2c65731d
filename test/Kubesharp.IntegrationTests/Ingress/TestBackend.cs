using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>
/// A real HTTP server on a loopback port that answers with its name, the path, the Host, the query and the X-Test-*
/// headers it was sent, and sends X-Backend and X-Backend-Extra response headers (for header filters to change).
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication app;

    private TestBackend(WebApplication app, string name, int port)
    {
        this.app = app;
        Name = name;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public static async Task<TestBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(context =>
        {
            var request = context.Request;
            var test = string.Join(';', request.Headers.Where(h => h.Key.StartsWith("X-Test", StringComparison.OrdinalIgnoreCase))
                .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key.ToLowerInvariant()}:{h.Value}"));
            context.Response.Headers["X-Backend"] = name;
            context.Response.Headers["X-Backend-Extra"] = "extra";
            return context.Response.WriteAsync($"{name} {request.Path} host={request.Host} proto={request.Headers["X-Forwarded-Proto"]} query={request.QueryString} test={test}");
        });
        await app.StartAsync();
        var address = app.Urls.First();
        return new TestBackend(app, name, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
