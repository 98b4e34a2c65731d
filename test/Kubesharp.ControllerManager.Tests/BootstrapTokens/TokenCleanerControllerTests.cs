using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Tests;
using Kubesharp.ControllerManager.BootstrapTokens;
using Kubesharp.ControllerManager.Tests.Integration;
using Kubesharp.Scheduler.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.BootstrapTokens;

/// <summary>
/// The tokencleaner against a real API server on a fake clock: expiry is reached by moving the clock; only expired
/// bootstrap token Secrets of kube-system go.
/// </summary>
public sealed class TokenCleanerControllerTests
{
    [Fact]
    public async Task Run_OnAFakeClock_DeletesExpiredTokensWhenTheyExpire_AndLeavesTheRest()
    {
        await using var server = await TestApiServer.StartAsync();
        var clock = new ManualTimeProvider();
        // A whole second, as expirations are written.
        clock.Advance(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1) - clock.GetUtcNow());
        var secrets = server.Client.Resource<Secret>();
        var now = clock.GetUtcNow();

        await secrets.CreateAsync(Token("expired", BootstrapToken.FormatExpiration(now.AddMinutes(-1))));
        await secrets.CreateAsync(Token("unparsable", "next week"));
        await secrets.CreateAsync(Token("inanhour", BootstrapToken.FormatExpiration(now.AddHours(1))));
        await secrets.CreateAsync(Token("forever", null));
        // An expired token's data in a Secret of another type, or outside kube-system, is not a bootstrap token.
        await secrets.CreateAsync(Token("opaque", BootstrapToken.FormatExpiration(now.AddMinutes(-1))) with { Type = "Opaque" });
        await server.Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = "elsewhere" } });
        await secrets.CreateAsync(Token("outside", BootstrapToken.FormatExpiration(now.AddMinutes(-1)), "elsewhere"));

        using var stop = new CancellationTokenSource();
        var informers = new SharedInformerFactory(server.Client);
        await using var _ = informers.ConfigureAwait(false);
        var context = new ControllerContext(server.Client, informers, new EventRecorder(server.Client, "kube-controller-manager"), new ControllerManagerOptions { LeaderElect = false }, clock, NullLoggerFactory.Instance);
        using var controller = new TokenCleanerController(context);
        controller.Register();
        var running = controller.RunAsync(stop.Token);

        await ControllerCluster.EventuallyAsync(() => NamesAsync(secrets, "kube-system"), n => !n.Contains("bootstrap-token-expired") && !n.Contains("bootstrap-token-unparsable"), "the expired tokens to be deleted");
        Assert.Contains("bootstrap-token-inanhour", await NamesAsync(secrets, "kube-system"));

        // The token with an hour left is looked at again exactly when it expires.
        await ControllerCluster.EventuallyAsync(() => Task.FromResult(controller.Tokens.Get("kube-system", "bootstrap-token-inanhour")), s => s is not null, "the token in the cache");
        var result = await controller.ReconcileAsync("kube-system/bootstrap-token-inanhour", CancellationToken.None);
        Assert.Equal(TimeSpan.FromHours(1), result.RequeueAfter);

        // One second before its expiration it stays; past it, the clock alone gets it deleted.
        clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), (await controller.ReconcileAsync("kube-system/bootstrap-token-inanhour", CancellationToken.None)).RequeueAfter);
        Assert.Contains("bootstrap-token-inanhour", await NamesAsync(secrets, "kube-system"));
        await ControllerCluster.EventuallyAsync(
            async () =>
            {
                // Each look moves the clock a little, so the requeue timer fires whenever the worker set it.
                clock.Advance(TimeSpan.FromSeconds(1));
                return await NamesAsync(secrets, "kube-system");
            },
            n => !n.Contains("bootstrap-token-inanhour"),
            "the token to be deleted once it expired");

        var left = await NamesAsync(secrets, "kube-system");
        Assert.Contains("bootstrap-token-forever", left);
        Assert.Contains("bootstrap-token-opaque", left);
        Assert.Contains("bootstrap-token-outside", await NamesAsync(secrets, "elsewhere"));

        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        await server.Client.Resource<Namespace>().DeleteAsync(null, "elsewhere");
    }

    private static async Task<List<string>> NamesAsync(ResourceClient<Secret> secrets, string ns) =>
        [.. (await secrets.ListAsync(ns)).Items.Select(s => s.Metadata!.Name!)];

    private static Secret Token(string id, string? expiration, string ns = BootstrapToken.SecretNamespace)
    {
        var data = new Dictionary<string, byte[]>
        {
            [BootstrapToken.TokenIdKey] = Encoding.UTF8.GetBytes(id),
            [BootstrapToken.TokenSecretKey] = "0123456789abcdef"u8.ToArray(),
            [BootstrapToken.UsageAuthenticationKey] = "true"u8.ToArray(),
        };
        if (expiration is not null)
        {
            data[BootstrapToken.ExpirationKey] = Encoding.UTF8.GetBytes(expiration);
        }

        return new Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new ObjectMeta { Name = BootstrapToken.SecretName(id), Namespace = ns },
            Type = BootstrapToken.SecretType,
            Data = data,
        };
    }
}
