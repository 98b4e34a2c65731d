using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Kubesharp.ApiServer;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp server</c>: the control plane (API server on the chosen datastore), plus a node agent unless disabled.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var bindAddress = new Option<string>("--bind-address") { Description = "Address the API server listens on.", DefaultValueFactory = _ => "127.0.0.1" };
        var httpsPort = new Option<int>("--https-port") { Description = "HTTPS port of the API server.", DefaultValueFactory = _ => 6443 };
        var dataDir = new Option<string>("--data-dir") { Description = "Directory for certificates, the kubeconfig and the embedded datastore.", DefaultValueFactory = _ => ApiServerOptions.DefaultDataDir };
        var datastore = new Option<string?>("--datastore-endpoint") { Description = "sqlite://PATH (default: DATA/db/state.db) or etcd://HOST:PORT[,HOST:PORT…]." };
        var disableAgent = new Option<bool>("--disable-agent") { Description = "Run the control plane only, without a node." };
        var eventTtl = new Option<string>("--event-ttl") { Description = "How long events are kept (e.g. 1h, 30m).", DefaultValueFactory = _ => "1h" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log debug details." };

        var command = new Command("server", "Run a Kubernetes control plane (and a node unless --disable-agent).")
        {
            bindAddress, httpsPort, dataDir, datastore, disableAgent, eventTtl, verbose,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!IPAddress.TryParse(result.GetValue(bindAddress), out var address))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --bind-address {result.GetValue(bindAddress)} is not an IP address").ConfigureAwait(false);
                return 2;
            }

            if (!TryParseDuration(result.GetValue(eventTtl)!, out var ttl))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --event-ttl {result.GetValue(eventTtl)} is not a duration such as 1h or 30m").ConfigureAwait(false);
                return 2;
            }

            var options = new ApiServerOptions
            {
                BindAddress = address,
                HttpsPort = result.GetValue(httpsPort),
                DataDir = Path.GetFullPath(result.GetValue(dataDir)!),
                EventTtl = ttl,
            };
            return await RunAsync(options, result.GetValue(datastore), result.GetValue(verbose), result.GetValue(disableAgent), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ApiServerOptions options, string? datastoreEndpoint, bool verbose, bool disableAgent, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            })
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("kubesharp");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        await using var store = await OpenStoreAsync(options.DataDir, datastoreEndpoint, stop.Token).ConfigureAwait(false);
        await using var server = await ApiServerHost.StartAsync(options, store, ServerCatalog.Resources, ServerCatalog.OpenApi, loggerFactory, TimeProvider.System, stop.Token).ConfigureAwait(false);
        try
        {
            await server.Ready.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"kubesharp: the API server could not start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        // The server's own node (a single-node cluster), unless the control plane runs alone.
        using var agent = disableAgent ? null : await AgentCommand.StartInProcessAsync(server, loggerFactory, stop.Token).ConfigureAwait(false);
        Console.Out.WriteLine($"""
            Kubesharp API server ready at {server.Url} ({started.ElapsedMilliseconds} ms).
            Use it with kubectl:
                export KUBECONFIG={server.KubeconfigPath}
                kubectl get namespaces
            """);
        using var controllerClient = Kubesharp.Client.KubernetesClient.FromKubeconfig(server.KubeconfigPath);
        var controllers = Kubesharp.ControllerManager.ControllerManager.RunAsync(controllerClient, new Kubesharp.ControllerManager.ControllerManagerOptions(), TimeProvider.System, loggerFactory, stop.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await controllers.ConfigureAwait(false);
        if (agent is not null)
        {
            await agent.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task<IStore> OpenStoreAsync(string dataDir, string? endpoint, CancellationToken cancellationToken)
    {
        var path = Path.Combine(dataDir, "db", "state.db");
        if (!string.IsNullOrEmpty(endpoint))
        {
            if (endpoint.StartsWith("sqlite://", StringComparison.Ordinal))
            {
                path = endpoint["sqlite://".Length..];
            }
            else
            {
                throw new ArgumentException($"unsupported --datastore-endpoint {endpoint}");
            }
        }

        return await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = path }, cancellationToken).ConfigureAwait(false);
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var number = text.TrimEnd('s', 'm', 'h', 'd');
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out duration);
        }

        duration = text[^1] switch
        {
            'h' => TimeSpan.FromHours(value),
            'm' => TimeSpan.FromMinutes(value),
            'd' => TimeSpan.FromDays(value),
            _ => TimeSpan.FromSeconds(value),
        };
        return true;
    }
}
