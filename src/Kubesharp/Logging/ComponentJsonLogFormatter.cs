using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kubesharp.Logging;

/// <summary>
/// JSON log lines in the shape of component-base's JSON format: <c>ts</c> (Unix seconds), <c>v</c>, <c>msg</c>,
/// the component and logger, the message's structured values as fields, <c>err</c> for an exception. One object a line.
/// </summary>
internal sealed class ComponentJsonLogFormatter() : ConsoleFormatter(ComponentLogFormatter.JsonName)
{
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? string.Empty;
        var (component, logger) = ComponentLogFormatter.Component(logEntry.Category);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("ts", Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 3));
            json.WriteString("level", logEntry.LogLevel switch
            {
                LogLevel.Critical or LogLevel.Error => "error",
                LogLevel.Warning => "warning",
                LogLevel.Information => "info",
                _ => "debug",
            });
            json.WriteNumber("v", logEntry.LogLevel switch
            {
                LogLevel.Trace => 6,
                LogLevel.Debug => 4,
                _ => 0,
            });
            json.WriteString("component", component);
            json.WriteString("logger", logger);
            json.WriteString("msg", message);
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    if (key is "{OriginalFormat}" or "ts" or "level" or "v" or "component" or "logger" or "msg" or "err")
                    {
                        continue;
                    }

                    var name = key.Length > 0 ? char.ToLowerInvariant(key[0]) + key[1..] : key;
                    switch (value)
                    {
                        case null:
                            json.WriteNull(name);
                            break;
                        case int or long or short or byte or uint or ulong or double or float or decimal:
                            json.WriteNumber(name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                            break;
                        case bool flag:
                            json.WriteBoolean(name, flag);
                            break;
                        default:
                            json.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                            break;
                    }
                }
            }

            if (logEntry.Exception is { } exception)
            {
                json.WriteString("err", exception.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }
}
