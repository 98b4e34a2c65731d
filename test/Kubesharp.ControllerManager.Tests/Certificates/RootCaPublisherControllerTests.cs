using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Tests;
using Kubesharp.ControllerManager.Certificates;
using Kubesharp.ControllerManager.Tests.Integration;
using Kubesharp.Scheduler.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.Certificates;

/// <summary>The root-ca-cert-publisher against a real API server: it keeps kube-root-ca.crt in every namespace and holds no other ConfigMap.</summary>
public sealed class RootCaPublisherControllerTests
{
    private const string CaPem = "-----BEGIN CERTIFICATE-----\nnot-checked-here\n-----END CERTIFICATE-----\n";

    [Fact]
    public async Task Run_ConfigMapChangedOrDeleted_IsPutBack_AndOtherConfigMapsAreNotHeld()
    {
        await using var server = await TestApiServer.StartAsync();
        var configMaps = server.Client.Resource<ConfigMap>();
        await server.Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = "published" } });
        await configMaps.CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "before", Namespace = "published" }, Data = new() { ["a"] = "b" } });

        using var stop = new CancellationTokenSource();
        var informers = new SharedInformerFactory(server.Client);
        await using var _ = informers.ConfigureAwait(false);
        var context = new ControllerContext(server.Client, informers, new EventRecorder(server.Client, "kube-controller-manager"), new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance);
        using var controller = new RootCaPublisherController(context, CaPem);
        controller.Register();
        informers.Start(stop.Token);
        var running = controller.RunAsync(stop.Token);

        var published = await ControllerCluster.EventuallyAsync(() => TryGetAsync(configMaps, "published"), c => c is not null, "kube-root-ca.crt in the new namespace");
        Assert.Equal(CaPem, published!.Data![RootCaPublisherController.DataKey]);

        // Changed by someone: the data goes back to the CA alone, the labels they added stay.
        await configMaps.CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "after", Namespace = "published" }, Data = new() { ["c"] = "d" } });
        await configMaps.UpdateAsync(published with { Metadata = published.Metadata! with { Labels = new() { ["kept"] = "yes" } }, Data = new() { ["ca.crt"] = "other" } });
        var corrected = await ControllerCluster.EventuallyAsync(() => TryGetAsync(configMaps, "published"), c => c?.Data?[RootCaPublisherController.DataKey] == CaPem, "the ConfigMap's data put back");
        Assert.Equal("yes", corrected!.Metadata!.Labels!["kept"]);

        // Deleted: made again.
        await configMaps.DeleteAsync("published", RootCaPublisherController.ConfigMapName);
        await ControllerCluster.EventuallyAsync(() => TryGetAsync(configMaps, "published"), c => c is not null && c.Metadata!.Uid != corrected.Metadata.Uid, "the ConfigMap made again");

        // Its cache holds the published ConfigMaps only, not the ones created before or after it started.
        Assert.All(controller.ConfigMaps.List(), c => Assert.Equal(RootCaPublisherController.ConfigMapName, c.Metadata!.Name));
        Assert.Contains(controller.ConfigMaps.List(), c => c.Metadata!.Namespace == "published");

        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<ConfigMap?> TryGetAsync(ResourceClient<ConfigMap> configMaps, string ns)
    {
        try
        {
            return await configMaps.GetAsync(ns, RootCaPublisherController.ConfigMapName);
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }
}
