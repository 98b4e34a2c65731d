using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text;
using Kubesharp.Api;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Storage.Tests.Etcd;
using Kubesharp.Storage.Tests;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// Readiness that tells the truth: named /readyz checks, no request served from a half-loaded cache while the
/// server starts, and writes refused once the datastore's files are gone.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-ready-" + Guid.NewGuid().ToString("N"));
    private IStore? _store;
    private EtcdServer? _etcd;
    private ApiServerHost? _host;
    private HttpClient? _client;
    private HttpClient? _anonymous;

    private string DatabasePath => Path.Combine(_dataDir, "db", "state.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("etcd")]
    public async Task Restart_WhileLoadingManyObjects_NeverAnswersShortListOrMissingObject(string backend)
    {
        const int count = 30_000;
        if (backend == "etcd")
        {
            if (!File.Exists(EtcdServer.Executable) && Environment.GetEnvironmentVariable("CI") != "true")
            {
                return;
            }

            _etcd = new EtcdServer();
            await _etcd.InitializeAsync();
        }

        _store = await OpenStoreAsync();
        await StartAsync();
        await _host!.Ready;
        await StopAsync();

        // Written straight into the store, as a long-running cluster would have left them.
        _store = await OpenStoreAsync();
        var filler = new string('x', 256);
        for (var start = 0; start < count; start += 500)
        {
            await Task.WhenAll(Enumerable.Range(start, 500).Select(i => _store.CreateAsync(
                $"/registry/configmaps/default/cm-{i:D5}",
                Encoding.UTF8.GetBytes($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-{{{i:D5}}}","namespace":"default","uid":"{{{Guid.NewGuid()}}}","creationTimestamp":"2025-01-01T00:00:00Z"},"data":{"k":"{{{filler}}}"}}"""),
                CancellationToken.None)));
        }

        await _store.DisposeAsync();
        _store = null;

        // Requests start before the server does: clients from the certificates the first start left, a port chosen up front.
        var port = LoopbackPort.Free();
        var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_dataDir, "server", "tls", "ca.crt")));
        using (var admin = X509Certificate2.CreateFromPemFile(Path.Combine(_dataDir, "server", "tls", "client-admin.crt"), Path.Combine(_dataDir, "server", "tls", "client-admin.key")))
        {
            var url = new Uri($"https://127.0.0.1:{port}");
            _client = NewClient(url, ca, X509CertificateLoader.LoadPkcs12(admin.Export(X509ContentType.Pkcs12), null));
            _anonymous = NewClient(url, ca, null);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // The cache's load is held after its first page until a request has been refused, so the start-up window is
        // hit however fast the machine loads the store.
        var loading = new HeldStore(await OpenStoreAsync());
        _store = loading;
        var starting = Task.Run(() => StartAsync(port));
        var ready = starting.ContinueWith(t => t.IsCompletedSuccessfully ? _host!.Ready : t, TaskScheduler.Default).Unwrap();
        var tooMany = 0;
        var served = 0;
        var readyzOk = 0;
        async Task HammerAsync(int worker)
        {
            // Until a while after the cache is loaded; bounded by the deadline.
            var after = 0;
            while (after < 5 && !deadline.IsCancellationRequested)
            {
                if (ready.IsCompletedSuccessfully)
                {
                    after++;
                }

                var path = (worker % 4) switch
                {
                    0 => "/api/v1/namespaces/default/configmaps",
                    1 => "/api/v1/namespaces/default/configmaps/cm-24242",
                    2 => "/api/v1/namespaces/default",
                    _ => "/api/v1/namespaces/default/configmaps?limit=500",
                };
                using var response = await SendUntilListeningAsync(_client!, path, deadline.Token);
                if (response is null)
                {
                    continue;
                }

                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                var body = JsonNode.Parse(text)!.AsObject();
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref tooMany);
                    loading.Release();
                    Assert.Equal("Status", (string?)body["kind"]);
                    Assert.Equal("TooManyRequests", (string?)body["reason"]);
                    Assert.True(response.Headers.RetryAfter is not null, "a 429 carries Retry-After");
                    continue;
                }

                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text[..Math.Min(300, text.Length)]}");
                Interlocked.Increment(ref served);
                if (worker % 4 == 0)
                {
                    Assert.Equal(count, body["items"]!.AsArray().Count);
                }
                else if (worker % 4 == 3)
                {
                    Assert.Equal(500, body["items"]!.AsArray().Count);
                    Assert.Equal(count - 500, (long?)body["metadata"]?["remainingItemCount"]);
                }
            }
        }

        async Task WatchReadyzAsync()
        {
            while (!ready.IsCompleted && !deadline.IsCancellationRequested)
            {
                using var response = await SendUntilListeningAsync(_anonymous!, "/readyz?verbose", deadline.Token);
                if (response is null)
                {
                    continue;
                }

                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    // Ready is only ever said once the cache holds the whole store.
                    using var list = await _client!.GetAsync("/api/v1/namespaces/default/configmaps", deadline.Token);
                    Assert.Equal(HttpStatusCode.OK, list.StatusCode);
                    Assert.Equal(count, JsonNode.Parse(await list.Content.ReadAsStringAsync(deadline.Token))!["items"]!.AsArray().Count);
                    Interlocked.Increment(ref readyzOk);
                    return;
                }
                else
                {
                    Assert.Contains("readyz check failed", text, StringComparison.Ordinal);
                }
            }
        }

        // Bounded: a server that never refuses is released after a while and fails the assertion below.
        _ = Task.Delay(TimeSpan.FromSeconds(20), deadline.Token).ContinueWith(_ => loading.Release(), TaskScheduler.Default);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(HammerAsync).Append(WatchReadyzAsync()));
        await starting;
        Assert.False(deadline.IsCancellationRequested, "the server did not become ready in time");
        Assert.True(served > 0);
        // The start-up window was hit: without the gate these requests would have seen a short or empty cache.
        Assert.True(tooMany > 0, "no request arrived while the cache was loading; the test did not exercise the start-up window");
        using var readyz = await _anonymous!.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
    }

    [Fact]
    public async Task Readyz_NamedChecks_VerboseSingleExcludeAndRegisteredFailure()
    {
        await StartAsync();
        await _host!.Ready;
        var verbose = await _anonymous!.GetStringAsync("/readyz?verbose");
        foreach (var name in new[] { "ping", "log", "etcd", "watch-cache", "poststarthook/bootstrap-controller" })
        {
            Assert.Contains($"[+]{name} ok\n", verbose, StringComparison.Ordinal);
        }

        Assert.EndsWith("readyz check passed\n", verbose, StringComparison.Ordinal);
        Assert.Equal("ok", await _anonymous.GetStringAsync("/readyz/watch-cache"));
        using (var unknown = await _anonymous.GetAsync("/readyz/no-such-check"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // A check the composition registers takes part like the built-in ones.
        var reason = "the node agent could not start: containerd is missing";
        _host.Readiness.Add("node-agent", () => reason);
        using (var failing = await _anonymous.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
            var text = await failing.Content.ReadAsStringAsync();
            Assert.Contains($"[-]node-agent failed: {reason}\n", text, StringComparison.Ordinal);
            Assert.Contains("[+]watch-cache ok\n", text, StringComparison.Ordinal);
            Assert.EndsWith("readyz check failed\n", text, StringComparison.Ordinal);
        }

        using (var single = await _anonymous.GetAsync("/readyz/node-agent"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, single.StatusCode);
            Assert.Contains(reason, await single.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var excluded = await _anonymous.GetAsync("/readyz?verbose&exclude=node-agent"))
        {
            Assert.Equal(HttpStatusCode.OK, excluded.StatusCode);
            Assert.Contains("[+]node-agent excluded: ok\n", await excluded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Liveness does not depend on components' readiness.
        Assert.Equal("ok", await _anonymous.GetStringAsync("/livez"));
        reason = null!;
        Assert.Equal("ok", await _anonymous.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task DatabaseRemovedWhileServing_FailsReadinessAndRefusesWrites()
    {
        await StartAsync();
        await _host!.Ready;
        using (var created = await PostConfigMapAsync("before"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);

        using (var refused = await PostConfigMapAsync("after"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var status = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!.AsObject();
            Assert.Equal("Status", (string?)status["kind"]);
            Assert.Equal("ServiceUnavailable", (string?)status["reason"]);
            Assert.Contains("removed", (string?)status["message"], StringComparison.Ordinal);
        }

        // Not acknowledged, and not served either.
        using (var missing = await _client!.GetAsync("/api/v1/namespaces/default/configmaps/after"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var readyz = await _anonymous!.GetAsync("/readyz?verbose");
        Assert.Equal(HttpStatusCode.InternalServerError, readyz.StatusCode);
        Assert.Contains("[-]etcd failed: the database file", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Recreating the file does not make the server ready again: what it wrote before is gone with the old file.
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        await File.WriteAllBytesAsync(DatabasePath, []);
        using var still = await _anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.InternalServerError, still.StatusCode);
    }

    private async Task<HttpResponseMessage> PostConfigMapAsync(string name)
    {
        using var content = new StringContent($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"}}""", Encoding.UTF8, "application/json");
        return await _client!.PostAsync("/api/v1/namespaces/default/configmaps", content);
    }

    /// <summary>The response, or null while nothing listens on the port yet.</summary>
    private static async Task<HttpResponseMessage?> SendUntilListeningAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetAsync(path, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            await Task.Delay(5, cancellationToken);
            return null;
        }
    }


    /// <summary>The test's store: the SQLite file, or the etcd server the test started.</summary>
    private async Task<IStore> OpenStoreAsync() => _etcd is not null
        ? await _etcd.OpenStoreAsync()
        : await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatabasePath }, CancellationToken.None);

    private async Task StartAsync(int port = 0)
    {
        _store ??= await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatabasePath }, CancellationToken.None);
        var host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = _dataDir, HttpsPort = port },
            _store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        _host = host;
        if (port != 0)
        {
            return;
        }

        var ca = X509Certificate2.CreateFromPem(_host.Certificates.CaPem);
        using var admin = X509Certificate2.CreateFromPem(_host.Certificates.AdminCertificatePem, _host.Certificates.AdminKeyPem);
        _client = NewClient(_host.Url, ca, X509CertificateLoader.LoadPkcs12(admin.Export(X509ContentType.Pkcs12), null));
        _anonymous = NewClient(_host.Url, ca, null);
    }

    private async Task StopAsync()
    {
        _client?.Dispose();
        _anonymous?.Dispose();
        _client = _anonymous = null;
        if (_host is not null)
        {
            await _host.DisposeAsync();
            _host = null;
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }
    }

    private static HttpClient NewClient(Uri url, X509Certificate2 ca, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
    }
}
