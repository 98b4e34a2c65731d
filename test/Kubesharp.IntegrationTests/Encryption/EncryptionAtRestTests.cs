using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Storage.Tests.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.Encryption;

/// <summary>
/// Secrets encrypted between the API server and a real store (SQLite file, etcd): unreadable in the raw store,
/// readable through the API, rotated and re-encrypted by the secrets-encrypt verbs, refused clearly without the key.
/// </summary>
public sealed class EncryptionAtRestTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-enc-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("aescbc", 32)]
    [InlineData("aesgcm", 16)]
    [InlineData("secretbox", 32)]
    public async Task SecretCreate_EncryptingProvider_StoredEncryptedReadableThroughApi(string provider, int keyBytes)
    {
        var config = WriteConfig("config.yaml", $$"""
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
              - resources: [secrets]
                providers:
                  - {{provider}}:
                      keys:
                        - name: key1
                          secret: {{Convert.ToBase64String(RandomNumberGenerator.GetBytes(keyBytes))}}
                  - identity: {}
            """);
        var store = await OpenSqliteAsync();
        await using (store)
        {
            var plain = "plain-" + Guid.NewGuid().ToString("N");
            await using (var host = await StartAsync(store, config))
            {
                using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
                await CreateSecretAsync(client, "s1", plain);
                await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "c1" }, ["data"] = new JsonObject { ["k"] = plain } });

                var read = await client.GetJsonAsync("/api/v1/namespaces/default/secrets/s1");
                Assert.Equal(plain, Encoding.UTF8.GetString(Convert.FromBase64String(read!["data"]!["password"]!.GetValue<string>())));
                // Read again past the watch cache, from the store itself.
                var list = await client.GetJsonAsync("/api/v1/namespaces/default/secrets?limit=1&resourceVersion=");
                Assert.Contains(list!["items"]!.AsArray(), s => s!["metadata"]!["name"]!.GetValue<string>() == "s1");
            }

            var raw = await store.GetAsync("/registry/secrets/default/s1", 0, CancellationToken.None);
            Assert.StartsWith($"k8s:enc:{provider}:v1:key1:", Encoding.UTF8.GetString(raw!.Value.Span[..30]), StringComparison.Ordinal);
            Assert.DoesNotContain(Base64(plain), Encoding.Latin1.GetString(raw.Value.Span), StringComparison.Ordinal);
            // ConfigMaps are not named by the configuration: stored as they are.
            var configMap = await store.GetAsync("/registry/configmaps/default/c1", 0, CancellationToken.None);
            Assert.Contains(plain, Encoding.UTF8.GetString(configMap!.Value.Span), StringComparison.Ordinal);
            Assert.False(DatabaseFilesContain(Base64(plain)), "the secret's data is readable in the SQLite files");
            Assert.True(DatabaseFilesContain(plain), "the unencrypted ConfigMap should be found in the SQLite files (the search works)");
        }
    }

    [Theory]
    [InlineData("aescbc", 32)]
    [InlineData("aesgcm", 32)]
    [InlineData("secretbox", 32)]
    public async Task SecretCreate_ManyAtOnce_EveryOneDecryptsToItsOwnData(string provider, int keyBytes)
    {
        var config = WriteConfig("config.yaml", $$"""
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
              - resources: [secrets]
                providers:
                  - {{provider}}:
                      keys:
                        - name: key1
                          secret: {{Convert.ToBase64String(RandomNumberGenerator.GetBytes(keyBytes))}}
            """);
        const int count = 500;
        var store = await OpenSqliteAsync();
        await using (store)
        {
            await using var host = await StartAsync(store, config);
            using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
            // Requests encrypt side by side: one cipher instance shared between them stored ciphertext that never decrypts.
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
                await CreateSecretAsync(client, $"s-{i}", $"value-{i}"));

            // Past the watch cache: every stored value decrypts, and to its own data.
            var list = await client.GetJsonAsync("/api/v1/namespaces/default/secrets?resourceVersion=");
            var values = list!["items"]!.AsArray()
                .Where(s => s!["metadata"]!["name"]!.GetValue<string>().StartsWith("s-", StringComparison.Ordinal))
                .ToDictionary(s => s!["metadata"]!["name"]!.GetValue<string>(), s => Encoding.UTF8.GetString(Convert.FromBase64String(s!["data"]!["password"]!.GetValue<string>())));
            Assert.Equal(count, values.Count);
            Assert.All(values, pair => Assert.Equal("value-" + pair.Key[2..], pair.Value));
        }
    }

    [Fact]
    public async Task SecretCreate_OnEtcd_StoredEncryptedReadableThroughApi()
    {
        if (!File.Exists(EtcdServer.Executable) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            return;
        }

        var etcd = new EtcdServer();
        await etcd.InitializeAsync();
        try
        {
            var config = WriteConfig("config.yaml", AesCbcConfig("key1"));
            await using var store = await etcd.OpenStoreAsync();
            var plain = "plain-" + Guid.NewGuid().ToString("N");
            await using (var host = await StartAsync(store, config))
            {
                using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
                await CreateSecretAsync(client, "s1", plain);
                var read = await client.GetJsonAsync("/api/v1/namespaces/default/secrets/s1");
                Assert.Equal(Base64(plain), read!["data"]!["password"]!.GetValue<string>());
            }

            var raw = await store.GetAsync("/registry/secrets/default/s1", 0, CancellationToken.None);
            Assert.StartsWith("k8s:enc:aescbc:v1:key1:", Encoding.UTF8.GetString(raw!.Value.Span[..23]), StringComparison.Ordinal);
            Assert.DoesNotContain(Base64(plain), Encoding.Latin1.GetString(raw.Value.Span), StringComparison.Ordinal);
        }
        finally
        {
            await etcd.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restart_WithoutTheKey_FailsNamingTheKeyAndTheValue()
    {
        var config = WriteConfig("config.yaml", AesCbcConfig("key1"));
        var other = WriteConfig("other.yaml", AesCbcConfig("key2"));
        var store = await OpenSqliteAsync();
        await using (store)
        {
            await using (var host = await StartAsync(store, config))
            {
                using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
                await CreateSecretAsync(client, "s1", "value");
            }

            foreach (var path in new[] { null, other })
            {
                await using var host = await ApiServerHost.StartAsync(Options(path), store, BuiltinResources.Complete(ApiCatalog.Resources), null, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
                var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.Ready);
                Assert.Contains("unable to transform key \"/registry/secrets/default/s1\"", failure.Message, StringComparison.Ordinal);
                Assert.Contains("aescbc key key1", failure.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task PrepareRotateReencrypt_RewritesEverySecretWithTheNewKeyAndDropsTheOld()
    {
        var config = WriteConfig("config.json", AesCbcConfig("aescbckey"));
        var store = await OpenSqliteAsync();
        await using (store)
        {
            await using var host = await StartAsync(store, config);
            using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
            for (var i = 0; i < 5; i++)
            {
                await CreateSecretAsync(client, $"s{i}", $"value-{i}");
            }

            var prepared = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/prepare", new JsonObject());
            Assert.Equal("prepare", prepared!["stage"]!.GetValue<string>());
            Assert.Equal("aescbc:aescbckey", prepared["writer"]!.GetValue<string>());
            Assert.Equal(3, prepared["keys"]!.AsArray().Count);
            var newKey = prepared["keys"]![1]!.GetValue<string>()["aescbc:".Length..];

            var rotated = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/rotate", new JsonObject());
            Assert.Equal($"aescbc:{newKey}", rotated!["writer"]!.GetValue<string>());
            await CreateSecretAsync(client, "after-rotate", "value");
            Assert.StartsWith($"k8s:enc:aescbc:v1:{newKey}:", await RawPrefixAsync(store, "after-rotate"), StringComparison.Ordinal);
            Assert.StartsWith("k8s:enc:aescbc:v1:aescbckey:", await RawPrefixAsync(store, "s0"), StringComparison.Ordinal);

            var reencrypted = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/reencrypt", new JsonObject());
            Assert.Equal("reencrypt_finished", reencrypted!["stage"]!.GetValue<string>());
            Assert.True(reencrypted["rewritten"]!.GetValue<int>() >= 6);
            Assert.Equal(2, reencrypted["keys"]!.AsArray().Count);
            Assert.DoesNotContain("\"aescbckey\"", await File.ReadAllTextAsync(config), StringComparison.Ordinal);
            for (var i = 0; i < 5; i++)
            {
                Assert.StartsWith($"k8s:enc:aescbc:v1:{newKey}:", await RawPrefixAsync(store, $"s{i}"), StringComparison.Ordinal);
                var read = await client.GetJsonAsync($"/api/v1/namespaces/default/secrets/s{i}");
                Assert.Equal(Base64($"value-{i}"), read!["data"]!["password"]!.GetValue<string>());
            }

            // Out of order: rotate needs a prepared key.
            var refused = await Assert.ThrowsAsync<Kubesharp.ApiMachinery.Errors.StatusException>(() => client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/rotate", new JsonObject()));
            Assert.Equal(400, refused.Code);
        }
    }

    [Fact]
    public async Task RotateKeysThenDisable_ReencryptsInOneStepThenStoresInClear()
    {
        var config = WriteConfig("config.json", AesCbcConfig("aescbckey"));
        var store = await OpenSqliteAsync();
        await using (store)
        {
            await using var host = await StartAsync(store, config);
            using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
            await CreateSecretAsync(client, "s1", "value-1");

            var rotated = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/rotate-keys", new JsonObject());
            var writer = rotated!["writer"]!.GetValue<string>();
            Assert.NotEqual("aescbc:aescbckey", writer);
            Assert.Equal("reencrypt_finished", rotated["stage"]!.GetValue<string>());
            Assert.StartsWith($"k8s:enc:aescbc:v1:{writer["aescbc:".Length..]}:", await RawPrefixAsync(store, "s1"), StringComparison.Ordinal);

            var disabled = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/disable", new JsonObject());
            Assert.Equal("Disabled", disabled!["encryptionStatus"]!.GetValue<string>());
            await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/reencrypt", new JsonObject());
            Assert.StartsWith("{", await RawPrefixAsync(store, "s1"), StringComparison.Ordinal);
            var read = await client.GetJsonAsync("/api/v1/namespaces/default/secrets/s1");
            Assert.Equal(Base64("value-1"), read!["data"]!["password"]!.GetValue<string>());

            var enabled = await client.SendJsonAsync(HttpMethod.Post, "/v1-kubesharp/encrypt/enable", new JsonObject());
            Assert.Equal("Enabled", enabled!["encryptionStatus"]!.GetValue<string>());
            await CreateSecretAsync(client, "s2", "value-2");
            Assert.StartsWith("k8s:enc:aescbc:v1:", await RawPrefixAsync(store, "s2"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_InvalidConfigurations_RefusedWithTheField()
    {
        Assert.Contains("must be kind EncryptionConfiguration", Assert.Throws<FormatException>(() => Kubesharp.ApiServer.Encryption.EncryptionConfiguration.Parse("kind: Policy\napiVersion: v1")).Message, StringComparison.Ordinal);
        var shortKey = AesCbcConfig("k").Replace(Convert.ToBase64String(new byte[32]), Convert.ToBase64String(new byte[7]), StringComparison.Ordinal);
        Assert.Contains("resources[0].providers[0].aescbc.keys[0].secret is 7 bytes", Assert.Throws<FormatException>(() => Kubesharp.ApiServer.Encryption.EncryptionConfiguration.Parse(shortKey)).Message, StringComparison.Ordinal);
        var kms = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {name: x}\n";
        Assert.Contains("kms is not supported", Assert.Throws<FormatException>(() => Kubesharp.ApiServer.Encryption.EncryptionConfiguration.Parse(kms)).Message, StringComparison.Ordinal);
    }

    private static string AesCbcConfig(string keyName)
    {
        var secret = Convert.ToBase64String(keyName == "k" ? new byte[32] : RandomNumberGenerator.GetBytes(32));
        return "{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\",\"resources\":[{\"resources\":[\"secrets\"],"
            + $"\"providers\":[{{\"aescbc\":{{\"keys\":[{{\"name\":\"{keyName}\",\"secret\":\"{secret}\"}}]}}}},{{\"identity\":{{}}}}]}}]}}";
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<string> RawPrefixAsync(IStore store, string name)
    {
        var raw = await store.GetAsync($"/registry/secrets/default/{name}", 0, CancellationToken.None);
        return Encoding.UTF8.GetString(raw!.Value.Span[..Math.Min(raw.Value.Length, 64)]);
    }

    private static async Task CreateSecretAsync(KubernetesClient client, string name, string value) =>
        await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name },
            ["data"] = new JsonObject { ["password"] = Base64(value) },
        });

    private string WriteConfig(string name, string text)
    {
        var path = Path.Combine(_dataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private bool DatabaseFilesContain(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        foreach (var file in new[] { "state.db", "state.db-wal" }.Select(f => Path.Combine(_dataDir, "db", f)).Where(File.Exists))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            if (buffer.GetBuffer().AsSpan(0, (int)buffer.Length).IndexOf(needle) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private Task<SqliteStore> OpenSqliteAsync() =>
        SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dataDir, "db", "state.db") }, CancellationToken.None);

    private ApiServerOptions Options(string? config) => new() { DataDir = _dataDir, HttpsPort = 0, EncryptionProviderConfig = config };

    private async Task<ApiServerHost> StartAsync(IStore store, string config)
    {
        var host = await ApiServerHost.StartAsync(Options(config), store, BuiltinResources.Complete(ApiCatalog.Resources), null, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
        await host.Ready;
        return host;
    }
}
