using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Kubesharp.Logging;

/// <summary>
/// The logging flags every verb takes (recursive options of the root command): klog's <c>-v N</c> verbosity and
/// <c>--log-format text|json</c>. One line per event, each naming its component.
/// </summary>
internal static class LogOptions
{
    public static Option<int> Verbosity { get; } = new("--v", "-v")
    {
        Description = "Log verbosity, as klog: 0-1 informational messages, 2-3 also debug details of components, 4 and above debug everywhere, 6 and above trace.",
        DefaultValueFactory = _ => 0,
        Recursive = true,
    };

    public static Option<string> Format { get; } = new("--log-format")
    {
        Description = "How log lines are written: text or json (one JSON object a line).",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    };

    static LogOptions()
    {
        Verbosity.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("-v must be 0 or more");
            }
        });
        Format.AcceptOnlyFromAmong("text", "json");
    }

    public static void AddTo(Command root)
    {
        root.Options.Add(Verbosity);
        root.Options.Add(Format);
    }

    /// <summary>The minimum level for the project's own loggers at verbosity <paramref name="verbosity"/>.</summary>
    public static LogLevel LevelFor(int verbosity) => verbosity switch
    {
        >= 6 => LogLevel.Trace,
        >= 2 => LogLevel.Debug,
        _ => LogLevel.Information,
    };

    public static ILoggerFactory CreateLoggerFactory(ParseResult result) =>
        CreateLoggerFactory(result.GetValue(Verbosity), result.GetValue(Format) ?? "text");

    /// <summary>
    /// The console logger at <paramref name="verbosity"/> in <paramref name="format"/>, put together by hand: the
    /// framework's builder resolves it through a service container, which a native build does by reflection, and that
    /// took milliseconds at the head of every start, before containerd or the datastore could begin.
    /// </summary>
    public static ILoggerFactory CreateLoggerFactory(int verbosity, string format)
    {
        var level = LevelFor(verbosity);
        // The web host's own chatter only from -v 4 on.
        var framework = verbosity >= 4 ? level : LogLevel.Warning;
        var filters = new LoggerFilterOptions { MinLevel = level };
        filters.Rules.Add(new LoggerFilterRule(providerName: null, "Microsoft", framework, filter: null));
        filters.Rules.Add(new LoggerFilterRule(providerName: null, "System.Net.Http", framework, filter: null));
        var console = new ConsoleLoggerProvider(
            new FixedConsoleOptions(new ConsoleLoggerOptions { FormatterName = format == "json" ? ComponentLogFormatter.JsonName : ComponentLogFormatter.TextName }),
            [new ComponentLogFormatter(), new ComponentJsonLogFormatter()]);
        var factory = new LoggerFactory([], filters);
        // Added, not passed to the constructor: the factory then owns it, and disposing the factory writes out what is queued.
        factory.AddProvider(console);
        return factory;
    }

    /// <summary>The console logger's options, which never change: it asks for a monitor of them.</summary>
    private sealed class FixedConsoleOptions(ConsoleLoggerOptions value) : IOptionsMonitor<ConsoleLoggerOptions>
    {
        public ConsoleLoggerOptions CurrentValue => value;

        public ConsoleLoggerOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConsoleLoggerOptions, string?> listener) => null;
    }
}
