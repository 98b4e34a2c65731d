using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>A real HTTP server on a loopback port that answers with its name, the path and the Host it was sent.</summary>
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
        app.Run(context => context.Response.WriteAsync($"{name} {context.Request.Path} host={context.Request.Host} proto={context.Request.Headers["X-Forwarded-Proto"]}"));
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
