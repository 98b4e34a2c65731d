using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kubesharp.Logging;

/// <summary>
/// Text log lines in klog's shape: severity letter, date and time, the component, the logger, the message; an
/// exception stays on the same line, so one event is one line.
/// <c>I1203 19:28:53.123456 kubelet PodSyncer] Started container app of pod default/web</c>
/// </summary>
internal sealed class ComponentLogFormatter() : ConsoleFormatter(TextName)
{
    public const string TextName = "kubesharp-text";
    public const string JsonName = "kubesharp-json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? string.Empty;
        var now = DateTime.UtcNow;
        var (component, logger) = Component(logEntry.Category);
        textWriter.Write(Severity(logEntry.LogLevel));
        textWriter.Write(now.ToString("MMdd HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(component);
        textWriter.Write(' ');
        textWriter.Write(logger);
        textWriter.Write("] ");
        textWriter.Write(OneLine(message));
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(" err=\"");
            textWriter.Write(OneLine(exception.ToString()).Replace("\"", "\\\"", StringComparison.Ordinal));
            textWriter.Write('"');
        }

        textWriter.Write('\n');
    }

    internal static char Severity(LogLevel level) => level switch
    {
        LogLevel.Critical or LogLevel.Error => 'E',
        LogLevel.Warning => 'W',
        _ => 'I',
    };

    /// <summary>
    /// The component a category belongs to, in upstream's names (<c>Kubesharp.Kubelet.Pods.PodSyncer</c> is the
    /// kubelet's PodSyncer), and the logger's short name.
    /// </summary>
    internal static (string Component, string Logger) Component(string category)
    {
        var parts = category.Split('.');
        var logger = parts[^1];
        if (parts.Length < 2 || parts[0] != "Kubesharp")
        {
            return (parts[0].ToLowerInvariant(), logger);
        }

        var component = parts[1] switch
        {
            "ApiServer" => "kube-apiserver",
            "Scheduler" => "kube-scheduler",
            "ControllerManager" => "kube-controller-manager",
            "Kubelet" => "kubelet",
            "Proxy" => "kube-proxy",
            "Dns" => "coredns",
            "Storage" => "datastore",
            _ => parts[1].ToLowerInvariant(),
        };
        return (component, logger);
    }

    internal static string OneLine(string text) =>
        text.Contains('\n', StringComparison.Ordinal) ? text.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) : text;
}
