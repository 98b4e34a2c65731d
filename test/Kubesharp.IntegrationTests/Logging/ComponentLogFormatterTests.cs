using System.Text.Json.Nodes;
using Kubesharp.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.Logging;

/// <summary>Log lines: one a line, the component named, -v and --log-format on every verb.</summary>
public sealed class ComponentLogFormatterTests
{
    private static LogEntry<IReadOnlyList<KeyValuePair<string, object?>>> Entry(LogLevel level, string category, Exception? exception = null)
    {
        IReadOnlyList<KeyValuePair<string, object?>> state =
        [
            new("Container", "app"),
            new("Namespace", "default"),
            new("Name", "web"),
            new("Restarts", 3),
            new("{OriginalFormat}", "Started container {Container} of pod {Namespace}/{Name}"),
        ];
        return new LogEntry<IReadOnlyList<KeyValuePair<string, object?>>>(level, category, new EventId(1), state, exception, (_, _) => "Started container app of pod default/web\nsecond line");
    }

    [Fact]
    public void Text_OneLineKlogShape_NamesComponentAndLogger()
    {
        using var writer = new StringWriter();
        new ComponentLogFormatter().Write(Entry(LogLevel.Warning, "Kubesharp.Kubelet.Pods.PodSyncer", new InvalidOperationException("broken\nreally")), null, writer);
        var text = writer.ToString();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^W\d{4} \d{2}:\d{2}:\d{2}\.\d{6} kubelet PodSyncer\] Started container app of pod default/web\\nsecond line err=""System.InvalidOperationException: broken\\nreally""\n$", text);
    }

    [Theory]
    [InlineData("Kubesharp.ApiServer.Http.RequestHandler", "kube-apiserver", "RequestHandler")]
    [InlineData("Kubesharp.Scheduler.SchedulerService", "kube-scheduler", "SchedulerService")]
    [InlineData("Kubesharp.ControllerManager.Jobs.JobController", "kube-controller-manager", "JobController")]
    [InlineData("Kubesharp.Proxy.ServiceProxy", "kube-proxy", "ServiceProxy")]
    [InlineData("Kubesharp.Storage.Sqlite.SqliteStore", "datastore", "SqliteStore")]
    [InlineData("Microsoft.AspNetCore.Server.Kestrel", "microsoft", "Kestrel")]
    public void Component_FromCategory(string category, string component, string logger) =>
        Assert.Equal((component, logger), ComponentLogFormatter.Component(category));

    [Fact]
    public void Json_OneObjectALine_WithStructuredValues()
    {
        using var writer = new StringWriter();
        new ComponentJsonLogFormatter().Write(Entry(LogLevel.Error, "Kubesharp.Scheduler.SchedulerService", new InvalidOperationException("broken")), null, writer);
        var lines = writer.ToString().TrimEnd('\n').Split('\n');
        var line = Assert.Single(lines);
        var json = JsonNode.Parse(line)!.AsObject();
        Assert.Equal("error", (string?)json["level"]);
        Assert.Equal("kube-scheduler", (string?)json["component"]);
        Assert.Equal("SchedulerService", (string?)json["logger"]);
        Assert.Equal("Started container app of pod default/web\nsecond line", (string?)json["msg"]);
        Assert.Equal("app", (string?)json["container"]);
        Assert.Equal("default", (string?)json["namespace"]);
        Assert.Equal(3, (double)json["restarts"]!);
        Assert.StartsWith("System.InvalidOperationException: broken", (string?)json["err"], StringComparison.Ordinal);
        Assert.True((double)json["ts"]! > 1.7e9);
        Assert.False(json.ContainsKey("{OriginalFormat}"));
    }

    /// <summary>Every verb of the executable, so that a new one is checked without being listed here.</summary>
    public static TheoryData<string> Verbs => [.. KubesharpCommand.CreateRoot().Subcommands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Verbs))]
    public void EveryVerb_TakesVerbosityAndLogFormat(string verb)
    {
        var root = KubesharpCommand.CreateRoot();
        var command = root.Subcommands.Single(c => c.Name == verb);
        var leaf = command.Subcommands.FirstOrDefault() ?? command;
        var path = leaf == command ? new[] { verb } : new[] { verb, leaf.Name };
        var result = root.Parse([.. path, "-v", "4", "--log-format", "json"]);
        Assert.Equal(4, result.GetValue(LogOptions.Verbosity));
        Assert.Equal("json", result.GetValue(LogOptions.Format));
        Assert.DoesNotContain(result.Errors, e => e.Message.Contains("-v", StringComparison.Ordinal) || e.Message.Contains("log-format", StringComparison.Ordinal));
        Assert.NotEmpty(root.Parse([.. path, "--log-format", "xml"]).Errors);
    }

    [Theory]
    [InlineData(0, LogLevel.Information)]
    [InlineData(1, LogLevel.Information)]
    [InlineData(2, LogLevel.Debug)]
    [InlineData(4, LogLevel.Debug)]
    [InlineData(6, LogLevel.Trace)]
    public void Verbosity_MapsToLevels(int verbosity, LogLevel level)
    {
        Assert.Equal(level, LogOptions.LevelFor(verbosity));
        using var factory = LogOptions.CreateLoggerFactory(verbosity, "json");
        var logger = factory.CreateLogger("Kubesharp.Kubelet.Pods.PodSyncer");
        Assert.True(logger.IsEnabled(level));
        if (level > LogLevel.Trace)
        {
            // The level below the chosen one is off; Trace has none below it.
            Assert.False(logger.IsEnabled(level - 1));
        }
    }
}
