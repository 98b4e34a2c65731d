using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Kubesharp.Storage.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server</c> with the Gateway API on its ingress proxy, driven by the real kubectl: a Gateway
/// of the built-in class and an HTTPRoute applied with <c>kubectl apply</c> route to two real HTTP backends by
/// weight and by header, and report their status; filters, regular expressions and ReferenceGrants applied the same way.
/// </summary>
public sealed class KubectlGatewayTests : IAsyncLifetime
{
    private readonly KubectlServer server = new();
    private readonly List<WebApplication> backends = [];

    /// <summary>"METHOD path" of every request each backend was sent, by backend name.</summary>
    private readonly Dictionary<string, ConcurrentQueue<string>> received = [];
    private Process? process;
    private int httpPort;

    public async Task InitializeAsync()
    {
        httpPort = LoopbackPort.Free();
        process = await KubectlServer.StartAsync(server.DataDir,
        [
            "--disable-agent", "--simulated-nodes", "1",
            "--ingress-bind-address", "127.0.0.1",
            "--ingress-http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--ingress-https-port", LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
        ]);
        foreach (var name in new[] { "stable", "canary" })
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var backend = builder.Build();
            var log = received[name] = new ConcurrentQueue<string>();
            backend.Run(async context =>
            {
                log.Enqueue($"{context.Request.Method} {context.Request.Path}");
                if (context.Request.Path.StartsWithSegments("/slow", StringComparison.Ordinal))
                {
                    // Answered only when the proxy gives up on it.
                    await Task.WhenAny(Task.Delay(Timeout.Infinite, context.RequestAborted));
                    return;
                }

                await context.Response.WriteAsync($"{name} {context.Request.Path} host={context.Request.Host} env={context.Request.Headers["X-Test-Env"]}");
            });
            await backend.StartAsync();
            backends.Add(backend);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in backends)
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
    public async Task ApplyGatewayAndHttpRoute_WeightsSplitTraffic_HeaderMatchPicksBackend_StatusReported()
    {
        var kubectl = new Kubectl(server);
        var stablePort = new Uri(backends[0].Urls.First()).Port;
        var canaryPort = new Uri(backends[1].Urls.First()).Port;

        // The definitions and the default class are installed by the server itself.
        Assert.Equal("kubesharp.io/gateway-controller", (await EventuallyAsync(kubectl, ["get", "gatewayclass", "kubesharp", "-o", "jsonpath={.spec.controllerName}"], o => o.Length > 0)).Trim());
        Assert.Equal("True", await EventuallyAsync(kubectl, ["get", "gatewayclass", "kubesharp", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status}"], o => o == "True"));

        (await kubectl.RunAsync(["apply", "-f", "-"], $$$"""
            {{{ServiceYaml("stable", "default", 80, stablePort)}}}
            ---
            {{{ServiceYaml("canary", "default", 8000, canaryPort)}}}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: web, namespace: default}
            spec:
              gatewayClassName: kubesharp
              listeners:
              - {name: http, protocol: HTTP, port: 80, hostname: "*.shop.test"}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: store, namespace: default}
            spec:
              parentRefs: [{name: web, sectionName: http}]
              hostnames: [www.shop.test]
              rules:
              - matches:
                - path: {type: PathPrefix, value: /cart}
                  headers: [{name: X-Canary, value: always}]
                backendRefs: [{name: canary, port: 8000}]
              - matches:
                - path: {type: PathPrefix, value: /cart}
                backendRefs:
                - {name: stable, port: 80, weight: 90}
                - {name: canary, port: 8000, weight: 10}
            """, null)).Ok();

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Assert.StartsWith("canary /cart/items", await RequestUntilAsync(client, "www.shop.test", "/cart/items", "always", b => b.StartsWith("canary", StringComparison.Ordinal)));

        // 1,000 requests through the proxy: the weights split them 90/10.
        var stable = 0;
        var canary = 0;
        for (var i = 0; i < 1000; i++)
        {
            var body = await SendAsync(client, "www.shop.test", "/cart", null);
            stable += body.StartsWith("stable /cart", StringComparison.Ordinal) ? 1 : 0;
            canary += body.StartsWith("canary /cart", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.Equal(1000, stable + canary);
        Assert.InRange(stable, 850, 950);

        // The header match always wins over the weighted rule; a host outside the listener's hostname is not routed.
        for (var i = 0; i < 20; i++)
        {
            Assert.StartsWith("canary /cart", await SendAsync(client, "www.shop.test", "/cart", "always"));
        }

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "www.other.test", "/cart"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "www.shop.test", "/checkout"));

        Assert.Equal("True True 1", await EventuallyAsync(kubectl,
            ["get", "gateway", "web", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status} {.status.conditions[?(@.type==\"Programmed\")].status} {.status.listeners[0].attachedRoutes}"],
            o => o == "True True 1"));
        var address = (await kubectl.RunAsync("get", "gateway", "web", "-o", "jsonpath={.status.addresses[0].value}")).Ok().Output;
        Assert.True(IPAddress.TryParse(address, out _), $"gateway address: '{address}'");
        Assert.Equal("kubesharp.io/gateway-controller True True", await EventuallyAsync(kubectl,
            ["get", "httproute", "store", "-o", "jsonpath={.status.parents[0].controllerName} {.status.parents[0].conditions[?(@.type==\"Accepted\")].status} {.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].status}"],
            o => o.EndsWith("True True", StringComparison.Ordinal)));

        var table = (await kubectl.RunAsync("get", "gateway,httproute")).Ok().Output;
        Assert.Matches($@"gateway\.gateway\.networking\.k8s\.io/web\s+kubesharp\s+{System.Text.RegularExpressions.Regex.Escape(address)}\s+True\s", table);
        Assert.Matches(@"httproute\.gateway\.networking\.k8s\.io/store\s+\[""www\.shop\.test""\]\s", table);

        // A backendRef to a missing Service: ResolvedRefs False with BackendNotFound, and its share answered 500.
        (await kubectl.RunAsync(["apply", "-f", "-"], """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: broken, namespace: default}
            spec:
              parentRefs: [{name: web}]
              hostnames: [broken.shop.test]
              rules:
              - backendRefs: [{name: missing, port: 80}]
            """, null)).Ok();
        Assert.Equal("False BackendNotFound", await EventuallyAsync(kubectl,
            ["get", "httproute", "broken", "-o", "jsonpath={.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].status} {.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].reason}"],
            o => o.StartsWith("False", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.InternalServerError, await StatusAsync(client, "broken.shop.test", "/"));
    }

    [Fact]
    public async Task ApplyHttpRouteFiltersAndReferenceGrant_RegexRedirectRewriteAndCrossNamespaceBackendServed()
    {
        var kubectl = new Kubectl(server);
        var stablePort = new Uri(backends[0].Urls.First()).Port;
        var canaryPort = new Uri(backends[1].Urls.First()).Port;
        await EventuallyAsync(kubectl, ["get", "gatewayclass", "kubesharp", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status}"], o => o == "True");
        (await kubectl.RunAsync(["apply", "-f", "-"], $$$"""
            apiVersion: v1
            kind: Namespace
            metadata: {name: team}
            ---
            {{{ServiceYaml("stable", "default", 80, stablePort)}}}
            ---
            {{{ServiceYaml("canary", "team", 80, canaryPort)}}}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: web, namespace: default}
            spec:
              gatewayClassName: kubesharp
              listeners: [{name: http, protocol: HTTP, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: edge, namespace: default}
            spec:
              parentRefs: [{name: web}]
              hostnames: [edge.test]
              rules:
              - matches: [{path: {type: RegularExpression, value: "/v[0-9]+/.*"}}]
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier: {set: [{name: X-Test-Env, value: prod}]}
                backendRefs: [{name: stable, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /legacy}}]
                filters:
                - type: RequestRedirect
                  requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}, statusCode: 301}
              - matches: [{path: {type: PathPrefix, value: /team}, headers: [{type: RegularExpression, name: X-Team, value: "a|b"}]}]
                filters:
                - type: URLRewrite
                  urlRewrite: {hostname: team.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
                backendRefs: [{name: canary, namespace: team, port: 80}]
            """, null)).Ok();

        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("stable /v2/items host=edge.test env=prod", await RequestUntilAsync(client, "edge.test", "/v2/items", null, b => b.StartsWith("stable", StringComparison.Ordinal)));
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{httpPort}/legacy/items?page=2")))
        {
            request.Headers.Host = "edge.test";
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
            Assert.Equal($"http://edge.test:{httpPort}/v1/items?page=2", response.Headers.Location?.OriginalString);
        }

        // The Service in another namespace is refused until that namespace grants the reference.
        Assert.Equal("False RefNotPermitted", await EventuallyAsync(kubectl,
            ["get", "httproute", "edge", "-o", "jsonpath={.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].status} {.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].reason}"],
            o => o.StartsWith("False", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.InternalServerError, await StatusAsync(client, "edge.test", "/team/x", ("X-Team", "a")));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "edge.test", "/team/x", ("X-Team", "ab")));

        (await kubectl.RunAsync(["apply", "-f", "-"], """
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: edge-routes, namespace: team}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
              to: [{group: "", kind: Service, name: canary}]
            """, null)).Ok();
        Assert.Matches(@"edge-routes\s", (await kubectl.RunAsync("get", "referencegrants", "-n", "team")).Ok().Output);
        Assert.Equal("canary /x host=team.internal env=", await RequestUntilAsync(client, "edge.test", "/team/x", null, b => b.StartsWith("canary", StringComparison.Ordinal), ("X-Team", "b")));
        Assert.Equal("True ResolvedRefs", await EventuallyAsync(kubectl,
            ["get", "httproute", "edge", "-o", "jsonpath={.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].status} {.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].reason}"],
            o => o.StartsWith("True", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ApplyHttpRouteMirrorAndTimeouts_MirrorGetsCopy_SlowBackendAnswered504()
    {
        var kubectl = new Kubectl(server);
        var stablePort = new Uri(backends[0].Urls.First()).Port;
        var canaryPort = new Uri(backends[1].Urls.First()).Port;
        await EventuallyAsync(kubectl, ["get", "gatewayclass", "kubesharp", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status}"], o => o == "True");
        (await kubectl.RunAsync(["apply", "-f", "-"], $$$"""
            {{{ServiceYaml("stable", "default", 80, stablePort)}}}
            ---
            {{{ServiceYaml("canary", "default", 80, canaryPort)}}}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: web, namespace: default}
            spec:
              gatewayClassName: kubesharp
              listeners: [{name: http, protocol: HTTP, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: shadowed, namespace: default}
            spec:
              parentRefs: [{name: web}]
              hostnames: [shadow.test]
              rules:
              - matches: [{path: {type: PathPrefix, value: /slow}}]
                timeouts: {request: 500ms}
                backendRefs: [{name: stable, port: 80}]
              - filters:
                - type: RequestMirror
                  requestMirror: {backendRef: {name: canary, port: 80}}
                backendRefs: [{name: stable, port: 80}]
            """, null)).Ok();

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("stable /orders host=shadow.test env=", await RequestUntilAsync(client, "shadow.test", "/orders", null, b => b.StartsWith("stable", StringComparison.Ordinal)));

        // The mirror gets a copy of what the client sent; the client only ever sees the backend's answer.
        for (var attempt = 0; attempt < 300 && !received["canary"].Contains("GET /orders"); attempt++)
        {
            await Task.Delay(50);
        }

        Assert.Contains("GET /orders", received["canary"]);
        Assert.Equal("stable /orders/7 host=shadow.test env=", await SendAsync(client, "shadow.test", "/orders/7", null));

        // A backend slower than the rule's request timeout: 504 from the proxy, long before the client would give up.
        var started = Stopwatch.GetTimestamp();
        Assert.Equal(HttpStatusCode.GatewayTimeout, await StatusAsync(client, "shadow.test", "/slow/report"));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"took {Stopwatch.GetElapsedTime(started)}");
        Assert.Contains("GET /slow/report", received["stable"]);
        Assert.Equal("True True", await EventuallyAsync(kubectl,
            ["get", "httproute", "shadowed", "-o", "jsonpath={.status.parents[0].conditions[?(@.type==\"Accepted\")].status} {.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].status}"],
            o => o == "True True"));

        // kubectl shows the API server refusing a timeout that is not a Gateway API duration.
        var refused = await kubectl.RunAsync(["apply", "-f", "-"], """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: invalid, namespace: default}
            spec:
              parentRefs: [{name: web}]
              rules: [{timeouts: {request: 1.5s}, backendRefs: [{name: stable, port: 80}]}]
            """, null);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("timeouts.request", refused.Error, StringComparison.Ordinal);
    }

    private async Task<string> RequestUntilAsync(HttpClient client, string host, string path, string? canaryHeader, Func<string, bool> accept, (string Name, string Value)? header = null)
    {
        var body = string.Empty;
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            body = await SendAsync(client, host, path, canaryHeader, requireSuccess: false, header);
            if (accept(body))
            {
                return body;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{host}{path} never gave the expected answer; last: {body}");
        return body;
    }

    private async Task<string> SendAsync(HttpClient client, string host, string path, string? canaryHeader, bool requireSuccess = true, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{httpPort}{path}"));
        request.Headers.Host = host;
        if (canaryHeader is not null)
        {
            request.Headers.Add("X-Canary", canaryHeader);
        }

        if (header is { } extra)
        {
            request.Headers.Add(extra.Name, extra.Value);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(!requireSuccess || response.IsSuccessStatusCode, $"{host}{path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private async Task<HttpStatusCode> StatusAsync(HttpClient client, string host, string path, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{httpPort}{path}"));
        request.Headers.Host = host;
        if (header is { } extra)
        {
            request.Headers.Add(extra.Name, extra.Value);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A Service and an EndpointSlice naming one backend on loopback.</summary>
    private static string ServiceYaml(string name, string ns, int port, int backendPort) => $$$"""
        apiVersion: v1
        kind: Service
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          ports: [{name: http, port: {{{port}}}, targetPort: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: {{{name}}}-1, namespace: {{{ns}}}, labels: {kubernetes.io/service-name: {{{name}}}}}
        addressType: IPv4
        ports: [{name: http, port: {{{backendPort}}}, protocol: TCP}]
        endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
        """;

    /// <summary>Runs kubectl until its output satisfies <paramref name="accept"/> (the controller works asynchronously); bounded.</summary>
    private static async Task<string> EventuallyAsync(Kubectl kubectl, string[] arguments, Func<string, bool> accept)
    {
        var output = string.Empty;
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var result = await kubectl.RunAsync(arguments);
            output = result.Output;
            if (result.ExitCode == 0 && accept(output))
            {
                return output;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"kubectl {string.Join(' ', arguments)} never gave the expected output; last: {output}");
        return output;
    }
}
