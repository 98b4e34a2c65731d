using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;
using Kubesharp.Ingress;
using Kubesharp.Ingress.Gateway;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Ingress.Gateway;

/// <summary>
/// The Gateway API side of the built-in ingress controller against an in-process API server: the definitions it
/// installs, HTTPRoutes attached to Gateways by upstream's rules and served by the proxy to real HTTP backends, and
/// the status it reports.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GatewayControllerTests(TestServer server) : IAsyncLifetime
{
    private const string Api = "/apis/gateway.networking.k8s.io/v1";
    private const string GrantApi = "/apis/gateway.networking.k8s.io/v1beta1";

    /// <summary>A Gateway of the built-in class with one HTTP listener for routes of its namespace.</summary>
    private const string WebGateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web}
        spec:
          gatewayClassName: kubesharp
          listeners: [{name: http, protocol: HTTP, port: 80}]
        """;

    private readonly string id = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> cleanup = [];
    private TestIngressController harness = null!;

    private string Ns => "gw" + id;

    private KubernetesClient Client => harness.Client;

    public async Task InitializeAsync()
    {
        harness = await TestIngressController.StartAsync(server, Ns);

        // The controller installs the definitions and the default class at start.
        await EventuallyAsync($"{Api}/gatewayclasses/{IngressOptions.DefaultGatewayClassName}", c => Condition(c["status"]?["conditions"], "Accepted") == "True Accepted");
    }

    public async Task DisposeAsync()
    {
        foreach (var path in cleanup)
        {
            await Client.SendJsonAsync(HttpMethod.Delete, path, null);
        }

        await harness.DisposeAsync();
    }

    [Fact]
    public async Task HttpRoute_MatchPrecedence_ExactPathThenMethodThenHeadersThenOlderRoute()
    {
        foreach (var name in new[] { "prefix", "exact", "header", "post", "younger" })
        {
            await TestServiceEndpoints.CreateAsync(Client, Ns, name, await harness.BackendAsync(name));
        }

        var host = $"prec-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: older}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /api}}]
                backendRefs: [{name: prefix, port: 80}]
              - matches: [{path: {type: Exact, value: /api/v1}}]
                backendRefs: [{name: exact, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Version, value: "2"}]}]
                backendRefs: [{name: header, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /api}, method: POST}]
                backendRefs: [{name: post, port: 80}]
            """);
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/older", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "True Accepted");
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: younger}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /api}}]
                backendRefs: [{name: younger, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /other}}]
                backendRefs: [{name: younger, port: 80}]
            """);

        Assert.StartsWith("younger /other", await harness.EventuallyAsync($"http://{host}/other", b => b.StartsWith("younger", StringComparison.Ordinal)));
        Assert.StartsWith("prefix /api/x", await harness.GetAsync($"http://{host}/api/x"));
        Assert.StartsWith("exact /api/v1", await harness.GetAsync($"http://{host}/api/v1"));
        Assert.StartsWith("prefix /api/v1/x", await harness.GetAsync($"http://{host}/api/v1/x"));
        Assert.StartsWith("header /api/x", await SendAsync(HttpMethod.Get, $"http://{host}/api/x", ("X-Version", "2")));
        Assert.StartsWith("prefix /api/x", await SendAsync(HttpMethod.Get, $"http://{host}/api/x", ("X-Version", "3")));
        Assert.StartsWith("post /api/x", await SendAsync(HttpMethod.Post, $"http://{host}/api/x", ("X-Version", "2")));
        Assert.Equal(HttpStatusCode.NotFound, (await harness.Web.GetAsync(new Uri($"http://{host}/apix"))).StatusCode);
        var gateway = await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/web", g => (int?)g["status"]?["listeners"]?[0]?["attachedRoutes"] == 2);
        Assert.Equal(TestIngressController.NodeAddress, (string?)gateway["status"]!["addresses"]![0]!["value"]);
        Assert.Equal("True Programmed", Condition(gateway["status"]!["conditions"], "Programmed"));

        // A deleted route stops being served, and the listener counts one route less.
        await Client.SendRequiredJsonAsync(HttpMethod.Delete, $"{Api}/namespaces/{Ns}/httproutes/younger", null);
        await harness.EventuallyStatusAsync($"http://{host}/other", HttpStatusCode.NotFound);
        await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/web", g => (int?)g["status"]?["listeners"]?[0]?["attachedRoutes"] == 1);
    }

    [Fact]
    public async Task HttpRoute_ListenerRules_AcceptedOnlyWhereNamespaceAndHostnameAllow()
    {
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", await harness.BackendAsync("web"));
        var other = Ns + "-other";
        await Client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = other } });
        cleanup.Add($"/api/v1/namespaces/{other}");
        await TestServiceEndpoints.CreateAsync(Client, other, "web", await harness.BackendAsync("other"));
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: foreign-{{{id}}}}
            spec: {controllerName: example.com/foreign}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: shared}
            spec:
              gatewayClassName: kubesharp
              listeners:
              - {name: same, protocol: HTTP, port: 80, hostname: "*.same-{{{id}}}.test"}
              - name: team
                protocol: HTTP
                port: 80
                hostname: team-{{{id}}}.test
                allowedRoutes:
                  namespaces:
                    from: Selector
                    selector:
                      matchLabels:
                        team: x{{{id}}}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: fits}
            spec:
              parentRefs: [{name: shared, sectionName: same}]
              hostnames: [www.same-{{{id}}}.test]
              rules: [{backendRefs: [{name: web, port: 80}]}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: wrong-host}
            spec:
              parentRefs: [{name: shared, sectionName: same}]
              hostnames: [elsewhere-{{{id}}}.test]
              rules: [{backendRefs: [{name: web, port: 80}]}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: no-section}
            spec:
              parentRefs: [{name: shared, sectionName: nope}]
              rules: [{backendRefs: [{name: missing, port: 80}]}]
            """);
        cleanup.Add($"{Api}/gatewayclasses/foreign-{id}");
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: team, namespace: {{{other}}}}
            spec:
              parentRefs: [{name: shared, namespace: {{{Ns}}}, sectionName: team}]
              rules: [{backendRefs: [{name: web, port: 80}]}]
            """, other);

        Assert.StartsWith("web /", await harness.EventuallyAsync($"http://www.same-{id}.test/", b => b.StartsWith("web", StringComparison.Ordinal)));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/wrong-host", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False NoMatchingListenerHostname");
        var noSection = await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/no-section", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False NoMatchingParent");
        Assert.Equal("False BackendNotFound", Condition(noSection["status"]!["parents"]![0]!["conditions"], "ResolvedRefs"));
        await EventuallyAsync($"{Api}/namespaces/{other}/httproutes/team", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False NotAllowedByListeners");
        Assert.Equal(HttpStatusCode.NotFound, (await harness.Web.GetAsync(new Uri($"http://elsewhere-{id}.test/"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await harness.Web.GetAsync(new Uri($"http://team-{id}.test/"))).StatusCode);
        var gateway = await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/shared", g => (int?)g["status"]?["listeners"]?[0]?["attachedRoutes"] == 1);
        Assert.Equal(0, (int?)gateway["status"]!["listeners"]![1]!["attachedRoutes"]);

        // Labelling the namespace lets its route in: it takes the listener's hostname.
        await Client.PatchJsonAsync($"/api/v1/namespaces/{other}", PatchType.Merge, new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["team"] = "x" + id } } });
        Assert.StartsWith("other /", await harness.EventuallyAsync($"http://team-{id}.test/", b => b.StartsWith("other", StringComparison.Ordinal)));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/shared", g => (int?)g["status"]?["listeners"]?[1]?["attachedRoutes"] == 1);

        // A class of another controller is none of this controller's business.
        Assert.Null((await Client.GetJsonAsync($"{Api}/gatewayclasses/foreign-{id}"))!["status"]?["conditions"]);
    }

    [Fact]
    public async Task HttpsListener_CertificateRefServedBySni_OtherProtocolsAndMissingSecretsRejected()
    {
        await TestServiceEndpoints.CreateAsync(Client, Ns, "secure", await harness.BackendAsync("secure"));
        var host = $"secure-{id}.test";
        using var certificate = TestIngressController.SelfSigned(host);
        await harness.TlsSecretAsync("tls", certificate);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: tls}
            spec:
              gatewayClassName: kubesharp
              listeners:
              - name: https
                protocol: HTTPS
                port: 443
                hostname: {{{host}}}
                tls: {certificateRefs: [{name: tls}]}
              - name: nosecret
                protocol: HTTPS
                port: 443
                hostname: nosecret-{{{id}}}.test
                tls: {certificateRefs: [{name: absent}]}
              - {name: tcp, protocol: TCP, port: 9000}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: secure}
            spec:
              parentRefs: [{name: tls, sectionName: https}]
              rules: [{backendRefs: [{name: secure, port: 80}]}]
            """);

        Assert.StartsWith($"secure / host={host} proto=https", await harness.EventuallyAsync($"https://{host}/", b => b.StartsWith("secure", StringComparison.Ordinal) && harness.Presented?.Thumbprint == certificate.Thumbprint));

        // The route is attached to the HTTPS listener only: plain HTTP does not reach it.
        Assert.Equal(HttpStatusCode.NotFound, (await harness.Web.GetAsync(new Uri($"http://{host}/"))).StatusCode);
        // The status may be written before the route's attachment is: wait for the count, not only the listeners.
        var gateway = await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/tls", g => g["status"]?["listeners"] is JsonArray { Count: 3 } l && (int?)l[0]?["attachedRoutes"] == 1);
        var listeners = gateway["status"]!["listeners"]!.AsArray();
        Assert.Equal("True Programmed", Condition(listeners[0]!["conditions"], "Programmed"));
        Assert.Equal("False InvalidCertificateRef", Condition(listeners[1]!["conditions"], "ResolvedRefs"));
        Assert.Equal("False UnsupportedProtocol", Condition(listeners[2]!["conditions"], "Accepted"));
        Assert.Empty(listeners[2]!["supportedKinds"]!.AsArray());
        Assert.Equal("True Accepted", Condition(gateway["status"]!["conditions"], "Accepted"));
    }

    [Fact]
    public async Task HttpRoute_RegularExpressionMatches_WholePathAndHeaderValue()
    {
        foreach (var name in new[] { "digits", "mobile", "other" })
        {
            await TestServiceEndpoints.CreateAsync(Client, Ns, name, await harness.BackendAsync(name));
        }

        var host = $"regex-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: regex}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: RegularExpression, value: "/items/[0-9]+"}}]
                backendRefs: [{name: digits, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /items}, headers: [{type: RegularExpression, name: X-Client, value: "mobile-(ios|android)"}]}]
                backendRefs: [{name: mobile, port: 80}]
              - backendRefs: [{name: other, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: backreference}
            spec:
              parentRefs: [{name: web}]
              hostnames: [backreference-{{{id}}}.test]
              rules:
              - matches: [{path: {type: RegularExpression, value: "/(a+)\\1"}}]
                backendRefs: [{name: other, port: 80}]
            """);

        Assert.StartsWith("digits /items/42", await harness.EventuallyAsync($"http://{host}/items/42", b => b.StartsWith("digits", StringComparison.Ordinal)));
        // The whole path must match; a regular expression ranks before any PathPrefix match.
        Assert.StartsWith("other /items/42x", await harness.GetAsync($"http://{host}/items/42x"));
        Assert.StartsWith("other /shop/items/42", await harness.GetAsync($"http://{host}/shop/items/42"));
        Assert.StartsWith("digits /items/42", await SendAsync(HttpMethod.Get, $"http://{host}/items/42", ("X-Client", "mobile-ios")));
        Assert.StartsWith("mobile /items/x", await SendAsync(HttpMethod.Get, $"http://{host}/items/x", ("X-Client", "mobile-android")));
        Assert.StartsWith("other /items/x", await SendAsync(HttpMethod.Get, $"http://{host}/items/x", ("X-Client", "mobile-ios-beta")));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/regex", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "True Accepted");

        // A pattern the linear-time engine cannot run (a backreference) is refused and matches nothing.
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/backreference", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False UnsupportedValue");
        Assert.Equal(HttpStatusCode.NotFound, (await harness.Web.GetAsync(new Uri($"http://backreference-{id}.test/aa"))).StatusCode);
    }

    [Fact]
    public async Task HttpRoute_Filters_HeadersModifiedRequestsRedirectedAndRewritten()
    {
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", await harness.BackendAsync("web"));
        var host = $"filters-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: filters}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /headers}}]
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: X-Test-Set, value: set}]
                    add: [{name: X-Test-Add, value: added}]
                    remove: [X-Test-Remove]
                - type: ResponseHeaderModifier
                  responseHeaderModifier:
                    set: [{name: X-Backend, value: replaced}]
                    add: [{name: X-Test-Response, value: added}]
                    remove: [X-Backend-Extra]
                backendRefs: [{name: web, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /old}}]
                filters:
                - type: RequestRedirect
                  requestRedirect: {scheme: https, hostname: new-{{{id}}}.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}
              - matches: [{path: {type: PathPrefix, value: /moved}}]
                filters:
                - type: RequestRedirect
                  requestRedirect: {port: 8080, path: {type: ReplaceFullPath, replaceFullPath: /elsewhere}}
              - matches: [{path: {type: PathPrefix, value: /api}}]
                filters:
                - type: URLRewrite
                  urlRewrite: {hostname: internal-{{{id}}}.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
                backendRefs: [{name: web, port: 80}]
              - matches: [{path: {type: Exact, value: /full}}]
                backendRefs:
                - name: web
                  port: 80
                  filters:
                  - type: URLRewrite
                    urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /replaced}}
                  - type: RequestHeaderModifier
                    requestHeaderModifier: {set: [{name: X-Test-Backend, value: "yes"}]}
            """);

        Assert.StartsWith($"web /replaced host={host} proto=http query= test=x-test-backend:yes", await harness.EventuallyAsync($"http://{host}/full", b => b.StartsWith("web /replaced", StringComparison.Ordinal)));

        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{host}/headers")))
        {
            request.Headers.Add("X-Test-Set", "original");
            request.Headers.Add("X-Test-Add", "first");
            request.Headers.Add("X-Test-Remove", "gone");
            using var response = await harness.Web.SendAsync(request);
            Assert.Equal($"web /headers host={host} proto=http query= test=x-test-add:first,added;x-test-set:set", await response.Content.ReadAsStringAsync());
            Assert.Equal("replaced", string.Join(',', response.Headers.GetValues("X-Backend")));
            Assert.Equal("added", string.Join(',', response.Headers.GetValues("X-Test-Response")));
            Assert.False(response.Headers.Contains("X-Backend-Extra"));
        }

        using (var response = await harness.Web.GetAsync(new Uri($"http://{host}/old/page?q=1")))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
            Assert.Equal($"https://new-{id}.test/new/page?q=1", response.Headers.Location?.OriginalString);
        }

        using (var response = await harness.Web.GetAsync(new Uri($"http://{host}/moved/x")))
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal($"http://{host}:8080/elsewhere", response.Headers.Location?.OriginalString);
        }

        Assert.Equal($"web /v2/users host=internal-{id}.test proto=http query=?x=1 test=", await harness.GetAsync($"http://{host}/api/users?x=1"));
        Assert.StartsWith("web /v2 host=", await harness.GetAsync($"http://{host}/api"));
        Assert.Equal("True Accepted", Condition((await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/filters", r => r["status"]?["parents"] is JsonArray { Count: 1 }))["status"]!["parents"]![0]!["conditions"], "Accepted"));
    }

    [Fact]
    public async Task HttpRoute_FiltersThisProxyCannotApply_ConditionsSetAnswered500AndStillAttached()
    {
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", await harness.BackendAsync("web"));
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: extension}
            spec:
              parentRefs: [{name: web}]
              hostnames: [extension-{{{id}}}.test]
              rules:
              - matches: [{path: {type: PathPrefix, value: /checked}}]
                filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Auth, name: strict}}]
                backendRefs: [{name: web, port: 80}]
              - backendRefs: [{name: web, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: incompatible}
            spec:
              parentRefs: [{name: web}]
              hostnames: [incompatible-{{{id}}}.test]
              rules:
              - filters:
                - {type: RequestRedirect, requestRedirect: {hostname: elsewhere.test}}
                - {type: URLRewrite, urlRewrite: {hostname: inside.test}}
                backendRefs: [{name: web, port: 80}]
            """);

        // The rule with the filter is answered 500, never served without it; the route's other rules are served.
        Assert.StartsWith("web /", await harness.EventuallyAsync($"http://extension-{id}.test/", b => b.StartsWith("web", StringComparison.Ordinal)));
        await harness.EventuallyStatusAsync($"http://extension-{id}.test/checked", HttpStatusCode.InternalServerError);
        var extension = await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/extension", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "ResolvedRefs") == "False InvalidKind");
        Assert.Equal("True Accepted", Condition(extension["status"]!["parents"]![0]!["conditions"], "Accepted"));

        await harness.EventuallyStatusAsync($"http://incompatible-{id}.test/", HttpStatusCode.InternalServerError);
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/incompatible", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False IncompatibleFilters");

        // Attachment depends only on the listener's allowedRoutes and the route's parentRefs: a route that is not
        // Accepted still counts in attachedRoutes, as upstream's ListenerStatus requires.
        await EventuallyAsync($"{Api}/namespaces/{Ns}/gateways/web", g => (int?)g["status"]?["listeners"]?[0]?["attachedRoutes"] == 2);
    }

    [Fact]
    public async Task HttpRoute_RequestMirror_CopySentToMirrorAnswerFromBackend()
    {
        var web = await harness.BackendAsync("web");
        var shadow = await harness.BackendAsync("shadow");
        var second = await harness.BackendAsync("second");
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", web);
        await TestServiceEndpoints.CreateAsync(Client, Ns, "shadow", shadow, port: 8080);
        await TestServiceEndpoints.CreateAsync(Client, Ns, "second", second);
        var host = $"mirror-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: mirror}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /mirrored}}]
                filters:
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: shadow, port: 8080}
                backendRefs:
                - name: web
                  port: 80
                  filters:
                  - type: RequestMirror
                    requestMirror:
                      backendRef: {name: second, port: 80}
              - matches: [{path: {type: PathPrefix, value: /plain}}]
                backendRefs: [{name: web, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: mirror-missing}
            spec:
              parentRefs: [{name: web}]
              hostnames: [missing-{{{id}}}.test]
              rules:
              - filters:
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: absent, port: 80}
                backendRefs: [{name: web, port: 80}]
            """);

        Assert.StartsWith("web /mirrored/a", await harness.EventuallyAsync($"http://{host}/mirrored/a", b => b.StartsWith("web", StringComparison.Ordinal)));
        using (var post = await harness.Web.PostAsync(new Uri($"http://{host}/mirrored/b?x=1"), new StringContent("payload")))
        {
            // The client gets the backend's answer; the mirrors' answers are dropped.
            Assert.StartsWith($"web /mirrored/b host={host} proto=http query=?x=1", await post.Content.ReadAsStringAsync());
            Assert.Equal("web", string.Join(',', post.Headers.GetValues("X-Backend")));
        }

        // Both the rule's mirror and the backendRef's get a copy, body included.
        await UntilAsync(() => shadow.Received.Contains("POST /mirrored/b payload") && second.Received.Contains("POST /mirrored/b payload"), () => $"both mirrors received the POST; shadow: {string.Join(" | ", shadow.Received)}; second: {string.Join(" | ", second.Received)}");
        Assert.Equal("POST /mirrored/b payload", web.Received.Last());
        Assert.StartsWith("web /plain", await harness.GetAsync($"http://{host}/plain"));
        Assert.Contains("GET /plain ", web.Received);
        Assert.DoesNotContain(shadow.Received, r => r.StartsWith("GET /plain", StringComparison.Ordinal));
        Assert.Equal("True Accepted", Condition((await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/mirror", r => r["status"]?["parents"] is JsonArray { Count: 1 }))["status"]!["parents"]![0]!["conditions"], "Accepted"));

        // A mirror whose Service does not exist is dropped: ResolvedRefs says so, and the requests are still served.
        Assert.StartsWith("web /", await harness.EventuallyAsync($"http://missing-{id}.test/", b => b.StartsWith("web", StringComparison.Ordinal)));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/mirror-missing", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "ResolvedRefs") == "False BackendNotFound");
    }

    [Fact]
    public async Task HttpRoute_RequestMirror_BodyOverLimitNotMirroredRequestStillServed()
    {
        var web = await harness.BackendAsync("web");
        var shadow = await harness.BackendAsync("shadow");
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", web);
        await TestServiceEndpoints.CreateAsync(Client, Ns, "shadow", shadow);
        var host = $"mirror-limit-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: mirror-limit}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - filters:
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: shadow, port: 80}
                backendRefs: [{name: web, port: 80}]
            """);
        Assert.StartsWith("web /", await harness.EventuallyAsync($"http://{host}/", b => b.StartsWith("web", StringComparison.Ordinal)));

        // Over the limit, with a length and chunked (read up to the limit first): the backend gets the body whole, the mirror nothing.
        var over = new string('o', GatewayMirror.BodyLimit + 1);
        var atLimit = new string('a', GatewayMirror.BodyLimit);
        foreach (var (path, body, chunked) in new[] { ("/over/length", over, false), ("/over/chunked", over, true), ("/limit/chunked", atLimit, true) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://{host}{path}")) { Content = new StringContent(body) };
            request.Headers.TransferEncodingChunked = chunked;
            using var response = await harness.Web.SendAsync(request);
            Assert.StartsWith($"web {path}", await response.Content.ReadAsStringAsync());
            Assert.Equal($"POST {path} {body}", web.Received.Last());
        }

        // A body at the limit is mirrored whole, and so are the requests after the skipped ones.
        using (var small = await harness.Web.PostAsync(new Uri($"http://{host}/after"), new StringContent("small")))
        {
            Assert.StartsWith("web /after", await small.Content.ReadAsStringAsync());
        }

        await UntilAsync(() => shadow.Received.Contains($"POST /limit/chunked {atLimit}") && shadow.Received.Contains("POST /after small"), () => $"the mirror received the later POSTs; it has {string.Join(" | ", shadow.Received.Select(r => r[..Math.Min(r.Length, 40)]))}");
        Assert.DoesNotContain(shadow.Received, r => r.StartsWith("POST /over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HttpRoute_Timeouts_SlowBackendAnswered504()
    {
        var web = await harness.BackendAsync("web");
        await TestServiceEndpoints.CreateAsync(Client, Ns, "web", web);
        var host = $"timeouts-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: timeouts}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /slow/request}}]
                timeouts: {request: 300ms}
                backendRefs: [{name: web, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /slow/backend}}]
                timeouts: {request: 1m, backendRequest: 200ms}
                backendRefs: [{name: web, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /fast}}]
                timeouts: {request: 1m}
                backendRefs: [{name: web, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: inverted}
            spec:
              parentRefs: [{name: web}]
              hostnames: [inverted-{{{id}}}.test]
              rules:
              - timeouts: {request: 1s, backendRequest: 2s}
                backendRefs: [{name: web, port: 80}]
            """);

        Assert.StartsWith("web /fast", await harness.EventuallyAsync($"http://{host}/fast", b => b.StartsWith("web", StringComparison.Ordinal)));
        foreach (var path in new[] { "/slow/request", "/slow/backend" })
        {
            var started = TimeProvider.System.GetTimestamp();
            using var response = await harness.Web.GetAsync(new Uri($"http://{host}{path}"));
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"{path} took {TimeProvider.System.GetElapsedTime(started)}");
            Assert.Contains($"GET {path} ", web.Received);
        }

        Assert.Equal("True Accepted", Condition((await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/timeouts", r => r["status"]?["parents"] is JsonArray { Count: 1 }))["status"]!["parents"]![0]!["conditions"], "Accepted"));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/inverted", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "Accepted") == "False UnsupportedValue");

        // A duration upstream's format does not allow is refused by the API server.
        var invalid = (JsonObject)YamlDecoder.DecodeAll($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: invalid}
            spec:
              parentRefs: [{name: web}]
              rules: [{timeouts: {request: 10 seconds}, backendRefs: [{name: web, port: 80}]}]
            """).Single();
        var refused = await Assert.ThrowsAsync<StatusException>(() => Client.SendJsonAsync(HttpMethod.Post, $"{Api}/namespaces/{Ns}/httproutes", invalid));
        Assert.Equal(422, refused.Code);
    }

    [Fact]
    public async Task HttpRoute_BackendInAnotherNamespace_RefNotPermittedUntilReferenceGrant()
    {
        var other = Ns + "-grant";
        await Client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = other } });
        cleanup.Add($"/api/v1/namespaces/{other}");
        await TestServiceEndpoints.CreateAsync(Client, other, "shared", await harness.BackendAsync("shared"));
        var host = $"grant-{id}.test";
        await ApplyAsync(WebGateway);
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: cross}
            spec:
              parentRefs: [{name: web}]
              hostnames: [{{{host}}}]
              rules: [{backendRefs: [{name: shared, namespace: {{{other}}}, port: 80}]}]
            """);
        // A grant for another Service of that namespace, or from another namespace, permits nothing here.
        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: unrelated}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {{{Ns}}}}]
              to: [{group: "", kind: Service, name: unrelated}]
            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: elsewhere}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: elsewhere}]
              to: [{group: "", kind: Service}]
            """, other);

        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/cross", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "ResolvedRefs") == "False RefNotPermitted");
        await harness.EventuallyStatusAsync($"http://{host}/", HttpStatusCode.InternalServerError);

        await ApplyAsync($$$"""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: routes-to-shared}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {{{Ns}}}}]
              to: [{group: "", kind: Service, name: shared}]
            """, other);
        Assert.StartsWith("shared /", await harness.EventuallyAsync($"http://{host}/", b => b.StartsWith("shared", StringComparison.Ordinal)));
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/cross", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "ResolvedRefs") == "True ResolvedRefs");

        // Deleting the grant withdraws the permission.
        await Client.SendRequiredJsonAsync(HttpMethod.Delete, $"{GrantApi}/namespaces/{other}/referencegrants/routes-to-shared", null);
        await harness.EventuallyStatusAsync($"http://{host}/", HttpStatusCode.InternalServerError);
        await EventuallyAsync($"{Api}/namespaces/{Ns}/httproutes/cross", r => Condition(r["status"]?["parents"]?[0]?["conditions"], "ResolvedRefs") == "False RefNotPermitted");
    }

    /// <summary>Creates each object of the YAML documents in <paramref name="ns"/> (the test's namespace by default).</summary>
    private async Task ApplyAsync(string yaml, string? ns = null)
    {
        foreach (var document in YamlDecoder.DecodeAll(yaml))
        {
            var obj = (JsonObject)document;
            var plural = (string)obj["kind"]! switch
            {
                "GatewayClass" => "gatewayclasses",
                "Gateway" => "gateways",
                "ReferenceGrant" => "referencegrants",
                _ => "httproutes",
            };
            var path = plural == "gatewayclasses" ? $"{Api}/{plural}" : $"{(plural == "referencegrants" ? GrantApi : Api)}/namespaces/{ns ?? Ns}/{plural}";
            await Client.SendRequiredJsonAsync(HttpMethod.Post, path, obj);
        }
    }

    private async Task<string> SendAsync(HttpMethod method, string url, (string Name, string Value) header)
    {
        using var request = new HttpRequestMessage(method, new Uri(url));
        request.Headers.Add(header.Name, header.Value);
        using var response = await harness.Web.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; bounded.</summary>
    private static async Task UntilAsync(Func<bool> condition, Func<string> what)
    {
        for (var attempt = 0; attempt < 600 && !condition(); attempt++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), $"never: {what()}");
    }

    /// <summary>Reads an object until it satisfies <paramref name="accept"/> (the controller writes status asynchronously); bounded.</summary>
    private async Task<JsonObject> EventuallyAsync(string path, Func<JsonObject, bool> accept)
    {
        JsonObject? last = null;
        for (var attempt = 0; attempt < 600; attempt++)
        {
            last = await Client.GetJsonAsync(path);
            if (last is not null && accept(last))
            {
                return last;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{path} never reached the expected state; last: {last?.ToJsonString()}");
        return last!;
    }

    /// <summary>"STATUS REASON" of the condition of a type, or null.</summary>
    private static string? Condition(JsonNode? conditions, string type) =>
        (conditions as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type) is { } c ? $"{(string?)c["status"]} {(string?)c["reason"]}" : null;
}
