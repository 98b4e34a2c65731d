using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Admission;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.Admission;

/// <summary>
/// A server with EventRateLimit on (a namespace may create 3 events at once, then one a second) and PodSecurity
/// off, as <c>--enable-admission-plugins EventRateLimit --disable-admission-plugins PodSecurity
/// --admission-control-config-file</c> ask.
/// </summary>
public sealed class EventRateLimitTestServer : TestServer
{
    // Inside the server's data directory, which the server's disposal removes.
    private string ConfigDir => Path.Combine(DataDir, "admission");

    public EventRateLimitTestServer()
    {
        // The plugin's configuration in a file of its own, named by path from the AdmissionConfiguration.
        Directory.CreateDirectory(ConfigDir);
        File.WriteAllText(Path.Combine(ConfigDir, "eventratelimit.yaml"), """
            apiVersion: eventratelimit.admission.k8s.io/v1alpha1
            kind: Configuration
            limits:
              - type: Namespace
                qps: 1
                burst: 3
            """);
        File.WriteAllText(Path.Combine(ConfigDir, "admission.yaml"), """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: EventRateLimit
                path: eventratelimit.yaml
            """);
    }

    protected override AdmissionOptions? Admission => new()
    {
        EnablePlugins = ["EventRateLimit"],
        DisablePlugins = ["PodSecurity"],
        ConfigFile = Path.Combine(ConfigDir, "admission.yaml"),
    };
}

public sealed class AdmissionPluginSelectionTests(EventRateLimitTestServer server) : IClassFixture<EventRateLimitTestServer>
{
    [Fact]
    public async Task EventCreate_BeyondNamespaceBurst_TooManyRequestsOtherNamespacesAndDryRunsUnaffected()
    {
        var busy = await NamespaceAsync("events-busy");
        var quiet = await NamespaceAsync("events-quiet");

        // The bucket starts full: the first three are always accepted.
        for (var i = 0; i < 3; i++)
        {
            var (status, _) = await server.PostAsync($"/api/v1/namespaces/{busy}/events", Event($"e{i}"));
            Assert.Equal(HttpStatusCode.Created, status);
        }

        // One token a second comes back; creates in a row run out within a few tries.
        JsonObject? refusal = null;
        for (var i = 3; i < 50 && refusal is null; i++)
        {
            var (status, body) = await server.PostAsync($"/api/v1/namespaces/{busy}/events", Event($"e{i}"));
            if (status == HttpStatusCode.TooManyRequests)
            {
                refusal = body;
            }
            else
            {
                Assert.Equal(HttpStatusCode.Created, status);
            }
        }

        Assert.NotNull(refusal);
        Assert.Equal("Status", (string?)refusal!["kind"]);
        Assert.Equal("TooManyRequests", (string?)refusal["reason"]);
        Assert.Equal(429, (int?)refusal["code"]);
        Assert.Equal($"Too many requests: limit reached on type Namespace for key {busy}", (string?)refusal["message"]);

        // A dry run stores nothing, so it is not counted and not refused, while the namespace is still out of tokens.
        var (dryRun, _) = await server.PostAsync($"/api/v1/namespaces/{busy}/events?dryRun=All", Event("dry"));
        Assert.Equal(HttpStatusCode.Created, dryRun);

        // Another namespace has a bucket of its own; other kinds are never limited.
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{quiet}/events", Event("first"))).Status);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{busy}/configmaps", $$$"""{"metadata":{"name":"cm{{{i}}}"}}""")).Status);
        }
    }

    [Fact]
    public async Task PodCreate_PodSecurityDisabled_PrivilegedPodAcceptedInRestrictedNamespace()
    {
        var name = "restricted-" + Guid.NewGuid().ToString("N")[..8];
        var (created, _) = await server.PostAsync("/api/v1/namespaces", $$$$"""{"metadata":{"name":"{{{{name}}}}","labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}""");
        Assert.Equal(HttpStatusCode.Created, created);

        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{name}/pods", """
            {"metadata":{"name":"privileged"},"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    [Theory]
    [InlineData(new[] { "NoSuchPlugin" }, new string[0], null, "--enable-admission-plugins: plugin \"NoSuchPlugin\" is unknown")]
    [InlineData(new string[0], new[] { "ServiceAccount" }, null, "plugin \"ServiceAccount\" cannot be disabled")]
    [InlineData(new[] { "EventRateLimit" }, new string[0], null, "EventRateLimit needs its configuration")]
    [InlineData(new[] { "EventRateLimit" }, new string[0], "limits: [{type: Cluster, qps: 1, burst: 1}]", "limits[0].type: Unsupported value: \"Cluster\"")]
    [InlineData(new[] { "EventRateLimit" }, new string[0], "limits: [{type: User, qps: 0, burst: 1}]", "limits[0].qps: Invalid value: 0")]
    [InlineData(new[] { "EventRateLimit" }, new string[0], "limits: []", "at least one limit is required")]
    public async Task Start_UnusableAdmissionFlags_RefusedWithReason(string[] enable, string[] disable, string? limits, string expected)
    {
        var dir = Path.Combine(Path.GetTempPath(), "kubesharp-admission-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string? config = null;
            if (limits is not null)
            {
                config = Path.Combine(dir, "admission.yaml");
                await File.WriteAllTextAsync(config, $$"""
                    apiVersion: apiserver.config.k8s.io/v1
                    kind: AdmissionConfiguration
                    plugins:
                      - name: EventRateLimit
                        configuration:
                          apiVersion: eventratelimit.admission.k8s.io/v1alpha1
                          kind: Configuration
                          {{limits}}
                    """);
            }

            await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dir, "state.db") }, CancellationToken.None);
            var options = new ApiServerOptions { DataDir = dir, HttpsPort = 0, Admission = new AdmissionOptions { EnablePlugins = enable, DisablePlugins = disable, ConfigFile = config } };
            var error = await Assert.ThrowsAsync<FormatException>(async () =>
            {
                await using var host = await ApiServerHost.StartAsync(options, store, BuiltinResources.Complete(ApiCatalog.Resources), null, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
            });
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<string> NamespaceAsync(string prefix)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{name}}}"}}""")).Status);
        return name;
    }

    private static string Event(string name) => $$$"""
        {"metadata":{"name":"{{{name}}}"},"involvedObject":{"kind":"Pod","name":"p","namespace":"x"},"reason":"Test","message":"m","type":"Normal","source":{"component":"test"}}
        """;
}
