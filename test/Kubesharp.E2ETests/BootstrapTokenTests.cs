using System.Diagnostics;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// <c>kubesharp token create|list|delete</c> of the real binary against a running server, and the tokens it makes used
/// by the real kubectl: allowed what RBAC binds to their groups, refused the rest, and refused altogether once deleted.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class BootstrapTokenTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-token").FullName;

    private string Ns => $"token-{_id}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _kubectl.RunAsync("delete", "namespace", Ns, "--ignore-not-found", "--wait=false");
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task TokenVerbs_CreateListDelete_AndKubectlWithTheTokenGetsWhatRbacAllows()
    {
        var group = $"system:bootstrappers:e2e-{_id}";
        var created = await KubesharpAsync("token", "create", "--ttl", "1h", "--description", "e2e reader", "--groups", group, "--data-dir", server.DataDir);
        Assert.True(created.ExitCode == 0, created.Error);
        var joinToken = created.Output.Trim();

        // The join form pins the same CA as the server's own node token.
        var (pin, credentials) = Kubesharp.ApiServer.Security.JoinToken.Parse(joinToken);
        var serverToken = (await File.ReadAllTextAsync(Path.Combine(server.DataDir, "server", "token"))).Trim();
        Assert.Equal(Kubesharp.ApiServer.Security.JoinToken.Parse(serverToken).CaHash, pin);
        Assert.Matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$", credentials);
        var tokenId = credentials[..6];

        var listed = await KubesharpAsync("token", "list", "--data-dir", server.DataDir);
        Assert.True(listed.ExitCode == 0, listed.Error);
        Assert.StartsWith("TOKEN ", listed.Output, StringComparison.Ordinal);
        var row = Assert.Single(listed.Output.Split('\n'), l => l.StartsWith(credentials, StringComparison.Ordinal));
        Assert.Contains("authentication,signing", row, StringComparison.Ordinal);
        Assert.Contains("e2e reader", row, StringComparison.Ordinal);
        Assert.EndsWith(group, row.TrimEnd(), StringComparison.Ordinal);
        Assert.Matches(" (59m|60m) ", row);

        // kubectl with only the token (no client certificate): authenticated as system:bootstrap:ID, allowed nothing yet.
        (await _kubectl.RunAsync("create", "namespace", Ns)).Ok();
        var refused = await WithTokenAsync(credentials, "get", "configmaps", "-n", Ns);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Error from server (Forbidden)", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"User \"system:bootstrap:{tokenId}\" cannot list resource \"configmaps\"", refused.Error, StringComparison.Ordinal);

        (await _kubectl.RunAsync("create", "role", "reader", "--verb=get,list", "--resource=configmaps", "-n", Ns)).Ok();
        (await _kubectl.RunAsync("create", "rolebinding", "readers", "--role=reader", $"--group={group}", "-n", Ns)).Ok();
        var allowed = await EventuallyAsync(() => WithTokenAsync(credentials, "get", "configmaps", "-n", Ns, "-o", "name"), r => r.ExitCode == 0, "the binding to let the token list configmaps");
        Assert.Contains("configmap/kube-root-ca.crt", allowed.Output, StringComparison.Ordinal);
        var write = await WithTokenAsync(credentials, "create", "configmap", "x", "-n", Ns);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains($"configmaps is forbidden: User \"system:bootstrap:{tokenId}\" cannot create resource \"configmaps\"", write.Error, StringComparison.Ordinal);

        // The join token (K10 prefix and all) names what to delete; after that the token authenticates no one.
        var deleted = await KubesharpAsync("token", "delete", joinToken, "--data-dir", server.DataDir);
        Assert.True(deleted.ExitCode == 0, deleted.Error);
        Assert.Equal($"bootstrap token \"{tokenId}\" deleted", deleted.Output.Trim());
        var unauthorized = await EventuallyAsync(() => WithTokenAsync(credentials, "get", "configmaps", "-n", Ns), r => r.Error.Contains("Unauthorized", StringComparison.Ordinal), "the deleted token to be refused");
        Assert.NotEqual(0, unauthorized.ExitCode);
        Assert.DoesNotContain(credentials, (await KubesharpAsync("token", "list", "--data-dir", server.DataDir)).Output, StringComparison.Ordinal);

        var again = await KubesharpAsync("token", "delete", tokenId, "--data-dir", server.DataDir);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"bootstrap token \"{tokenId}\" not found", again.Error, StringComparison.Ordinal);
        var bad = await KubesharpAsync("token", "create", "--groups", "system:masters", "--data-dir", server.DataDir);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("system:masters", bad.Error, StringComparison.Ordinal);
    }

    /// <summary>kubectl with a kubeconfig that holds no credentials, the server and CA given as flags, and the token.</summary>
    private Task<Kubectl.Result> WithTokenAsync(string token, params string[] args)
    {
        var empty = Path.Combine(_dir, "empty.yaml");
        File.WriteAllText(empty, "apiVersion: v1\nkind: Config\n");
        var url = File.ReadAllLines(server.Kubeconfig).Select(l => l.Trim()).First(l => l.StartsWith("server:", StringComparison.Ordinal))["server:".Length..].Trim();
        string[] flags = ["--server", url, "--certificate-authority", Path.Combine(server.DataDir, "server", "tls", "ca.crt"), "--token", token];
        return _kubectl.RunAsync([.. flags, .. args], null, new Dictionary<string, string> { ["KUBECONFIG"] = empty });
    }

    private static async Task<Kubectl.Result> EventuallyAsync(Func<Task<Kubectl.Result>> run, Func<Kubectl.Result, bool> done, string what)
    {
        Kubectl.Result result = null!;
        for (var attempt = 0; attempt < 40; attempt++)
        {
            result = await run();
            if (done(result))
            {
                return result;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"waited 10 s for {what}: {result.Error}");
        return result;
    }

    private static async Task<Kubectl.Result> KubesharpAsync(params string[] args)
    {
        using var process = Process.Start(KubesharpExecutable.StartInfo(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Kubectl.Result(process.ExitCode, await output, await error);
    }
}
