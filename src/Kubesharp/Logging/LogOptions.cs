using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

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

    public static ILoggerFactory CreateLoggerFactory(int verbosity, string format) => LoggerFactory.Create(builder =>
    {
        // The formatters take no options, so they are registered as plain services: the generic AddConsoleFormatter
        // would bind options from configuration by reflection, which a trimmed native build cannot do.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, ComponentLogFormatter>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, ComponentJsonLogFormatter>());
        builder
            .AddConsole(console => console.FormatterName = format == "json" ? ComponentLogFormatter.JsonName : ComponentLogFormatter.TextName)
            .SetMinimumLevel(LevelFor(verbosity))
            // The web host's own chatter only from -v 4 on.
            .AddFilter("Microsoft", verbosity >= 4 ? LevelFor(verbosity) : LogLevel.Warning)
            .AddFilter("System.Net.Http", verbosity >= 4 ? LevelFor(verbosity) : LogLevel.Warning);
    });
}
