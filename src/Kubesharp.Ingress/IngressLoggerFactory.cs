using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Ingress;

/// <summary>
/// The server's loggers as the proxy's own web host gets them, without the per-request ones: the host's request
/// logging (which also makes it start an Activity for every request) and YARP's two lines per forwarded request cost
/// more than the forwarding itself. The listener logs failed forwards itself.
/// </summary>
internal sealed class IngressLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        ArgumentNullException.ThrowIfNull(categoryName);
        return categoryName == "Microsoft.AspNetCore.Hosting.Diagnostics" || categoryName.StartsWith("Yarp.", StringComparison.Ordinal)
            ? NullLogger.Instance
            : inner.CreateLogger(categoryName);
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The server owns the loggers; the proxy's host must not dispose them.</summary>
    public void Dispose()
    {
    }
}
