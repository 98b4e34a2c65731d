using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Events;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Client.Tests.Events;

public sealed class EventRecorderTests
{
    private static readonly ConfigMap Subject = new()
    {
        Metadata = new ObjectMeta { Name = "subject", Namespace = "default", Uid = "8a3c1f0e-0000-4000-8000-000000000001" },
    };

    [Fact]
    public async Task RunAsync_TwoEventsAboutOneObjectInOneClockTick_BothStored()
    {
        await using var server = await TestApiServer.StartAsync();
        var frozen = new ManualTimeProvider();
        var recorder = new EventRecorder(server.Client, "test-controller", timeProvider: frozen);
        using var stop = new CancellationTokenSource();
        var running = recorder.RunAsync(stop.Token);

        recorder.Record(Subject, "Normal", "Created", "first");
        recorder.Record(Subject, "Normal", "Scaled", "second");

        var events = await Eventually.ValueAsync(() => ListEventsAsync(server.Client), e => e.Count == 2, "both events");
        Assert.Equal(["Created", "Scaled"], events.Select(e => e.Reason).Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.StartsWith("subject.", e.Metadata!.Name, StringComparison.Ordinal));
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task RunAsync_ServerDownWhenSent_EventArrivesAfterRestart()
    {
        await using var server = await TestApiServer.StartAsync();
        using var log = new RecordingLogger();
        var recorder = new EventRecorder(server.Client, "test-controller", logger: log);
        using var stop = new CancellationTokenSource();
        var running = recorder.RunAsync(stop.Token);

        await server.RestartAsync(async () =>
        {
            recorder.Record(Subject, "Warning", "Unreachable", "sent while the server was down");
            await Eventually.TrueAsync(
                () => log.Entries.Any(e => e.Message.Contains("Unreachable", StringComparison.Ordinal) && e.Message.Contains("try 1", StringComparison.Ordinal)),
                "a try to send while the server was down");
        });

        var events = await Eventually.ValueAsync(() => ListEventsAsync(server.Client), e => e.Count == 1, "the event sent after the restart");
        Assert.Equal(("Unreachable", "sent while the server was down", 1), (events[0].Reason, events[0].Message, events[0].Count));
        Assert.DoesNotContain(log.Entries, e => e.Level == LogLevel.Warning);
        await stop.CancelAsync();
        await running;
    }

    private static async Task<IReadOnlyList<Event>> ListEventsAsync(KubernetesClient client) =>
        (await client.Resource<Event>().ListAsync("default")).Items;
}
