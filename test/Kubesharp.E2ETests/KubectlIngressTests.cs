using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Kubesharp.Storage.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server</c> with its ingress controller on loopback ports, driven by the real kubectl:
/// <c>kubectl create ingress</c> gets the default class, is routed to a real HTTP backend and reports an address.
/// </summary>
public sealed class KubectlIngressTests : IAsyncLifetime
{
    private readonly KubectlServer server = new();
    private Process? process;
    private WebApplication? backend;
    private int httpPort;

    public async Task InitializeAsync()
    {
        httpPort = LoopbackPort.Free();
        process = await KubectlServer.StartAsync(server.DataDir,
        [
            "--disable-agent", "--simulated-nodes", "1",
            "--ingress-bind-address", "127.0.0.1",
            "--ingress-http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--ingress-https-port", LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        backend = builder.Build();
        backend.Run(context => context.Response.WriteAsync($"hello from web, path {context.Request.Path}, host {context.Request.Host}"));
        await backend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (backend is not null)
        {
            await backend.StopAsync();
            await backend.DisposeAsync();
        }

        if (process is not null)
        {
            await KubectlServer.StopAsync(process);
        }

        await server.DisposeAsync();
    }

    [Fact]
    public async Task CreateIngress_DefaultClass_RoutedToTheServiceEndpoints_StatusFilled()
    {
        var kubectl = new Kubectl(server);
        var backendPort = new Uri(backend!.Urls.First()).Port;
        (await kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec:
              ports: [{name: http, port: 80, targetPort: 8080}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-1
              namespace: default
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            ports: [{name: http, port: {{backendPort}}, protocol: TCP}]
            endpoints:
            - addresses: [127.0.0.1]
              conditions:
                ready: true
            """, null)).Ok();

        // The ingress proxy makes its default class once it runs, which it begins after the server has said it is ready
        // (as k3s's ingress controller comes after its server).
        Task<Kubectl.Result> DefaultClassAsync() => kubectl.RunAsync("get", "ingressclass", "kubesharp", "-o", "jsonpath={.spec.controller} {.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}");
        var classes = await DefaultClassAsync();
        for (var attempt = 0; attempt < 300 && classes.ExitCode != 0; attempt++)
        {
            await Task.Delay(50);
            classes = await DefaultClassAsync();
        }

        Assert.Equal("kubesharp.io/ingress-controller true", classes.Ok().Output);

        (await kubectl.RunAsync("create", "ingress", "web", "--rule=web.test/*=web:80")).Ok();
        Assert.Equal("kubesharp", (await kubectl.RunAsync("get", "ingress", "web", "-o", "jsonpath={.spec.ingressClassName}")).Ok().Output);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var body = string.Empty;
        for (var attempt = 0; attempt < 500 && !body.StartsWith("hello", StringComparison.Ordinal); attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{httpPort}/shop/cart"));
            request.Headers.Host = "web.test";
            using var response = await client.SendAsync(request);
            body = await response.Content.ReadAsStringAsync();
            if (!body.StartsWith("hello", StringComparison.Ordinal))
            {
                await Task.Delay(20);
            }
        }

        Assert.Equal("hello from web, path /shop/cart, host web.test", body);

        var address = string.Empty;
        for (var attempt = 0; attempt < 100 && address.Length == 0; attempt++)
        {
            address = (await kubectl.RunAsync("get", "ingress", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")).Ok().Output;
        }

        Assert.True(IPAddress.TryParse(address, out _), $"status address: '{address}'");
        var table = (await kubectl.RunAsync("get", "ingress", "web")).Ok().Output;
        Assert.Matches($@"web\s+kubesharp\s+web\.test\s+{Regex(address)}\s+80\s", table);
    }

    [Fact]
    public async Task Server_IngressProxy_ChildProcessWithInlineCompletionsEndsWithTheServer()
    {
        // The proxy is a child of the server, the runtime's inline socket completions on for it alone, on half the cores' polling threads.
        var server = process!;
        int? child = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (child is null && DateTime.UtcNow < deadline)
        {
            var found = ChildProcesses(server.Id).FirstOrDefault(pid => ReadProc(pid, "cmdline").Contains("ingress-proxy", StringComparison.Ordinal));
            child = found > 0 ? found : null;
            if (child is null)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(child is not null, "no ingress-proxy child of the server");
        const string Inline = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1";
        Assert.Contains(Inline, ReadProc(child.Value, "environ").Split('\0'));
        Assert.DoesNotContain(Inline, ReadProc(server.Id, "environ").Split('\0'));
        Assert.Contains($"DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT={Math.Max(1, Environment.ProcessorCount / 2)}", ReadProc(child.Value, "environ").Split('\0'));
        await WaitAsync(() => Accepts(httpPort), "the proxy to listen");

        // However the server ends, even killed, the proxy ends with it and frees its ports.
        server.Kill();
        await server.WaitForExitAsync();
        await WaitAsync(() => !Running(child.Value) && !Accepts(httpPort), "the proxy to end with the server");
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    private static bool Accepts(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string ReadProc(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    // A process that has ended but is not yet reaped (a zombie) counts as ended.
    private static bool Running(int pid) => ReadProc(pid, "stat").Split(')')[^1].Trim() is { Length: > 0 } rest && rest[0] != 'Z';

    private static IEnumerable<int> ChildProcesses(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadProc(pid, "stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var ppid, ..] && ppid == parent.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

}
