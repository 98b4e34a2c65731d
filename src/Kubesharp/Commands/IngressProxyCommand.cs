using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Kubesharp.Ingress;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp ingress-proxy</c> (hidden): the built-in ingress controller in a process of its own, which
/// <c>kubesharp server</c> starts and stops (<see cref="IngressProxy.IngressProxyProcess"/>). It runs until its standard
/// input closes: the server closing it, or the server gone however it ended.
/// </summary>
internal static partial class IngressProxyCommand
{
    public const string Name = "ingress-proxy";

    /// <summary>The exit code when the listeners' ports cannot be taken: starting again would not help.</summary>
    public const int ListenFailedExitCode = 3;

    public static Command Create()
    {
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "The kubeconfig the controller reads and writes the API with.", Required = true };
        var http = new Option<string>("--http-endpoint") { Description = "ADDRESS:PORT to serve HTTP on.", Required = true };
        var https = new Option<string>("--https-endpoint") { Description = "ADDRESS:PORT to serve HTTPS on.", Required = true };
        var status = new Option<string[]>("--status-address") { Description = "An address written to the served Ingresses' status (repeatable).", AllowMultipleArgumentsPerToken = false };
        var command = new Command(Name, "Run the built-in ingress controller (started by kubesharp server).") { kubeconfig, http, https, status };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!IPEndPoint.TryParse(result.GetValue(http)!, out var httpEndpoint) || !IPEndPoint.TryParse(result.GetValue(https)!, out var httpsEndpoint))
            {
                await Console.Error.WriteLineAsync("kubesharp: --http-endpoint and --https-endpoint must be ADDRESS:PORT").ConfigureAwait(false);
                return 2;
            }

            // A process group of its own, so a Ctrl+C meant for the server does not reach the proxy, which the server
            // stops in order. Not a session of its own: the scheduler would then share the CPU between the proxy and
            // everything else per session (autogroups), which cut its requests/s on a loaded machine.
            _ = SetProcessGroup(0, 0);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            WatchStandardInput(stop);
            using var loggerFactory = Logging.LogOptions.CreateLoggerFactory(result);
            var options = new IngressOptions
            {
                HttpEndpoint = httpEndpoint,
                HttpsEndpoint = httpsEndpoint,
                StatusAddresses = result.GetValue(status) ?? [],
            };
            using var client = Kubesharp.Client.KubernetesClient.FromKubeconfig(result.GetValue(kubeconfig)!);
            var informers = new Kubesharp.Client.Informers.SharedInformerFactory(client, loggerFactory: loggerFactory);
            await using var informersLifetime = informers.ConfigureAwait(false);
            var controller = new IngressController(client, informers, options, loggerFactory, TimeProvider.System);
            await using var controllerLifetime = controller.ConfigureAwait(false);
            try
            {
                await controller.RunAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (IOException e)
            {
                LogListenFailed(loggerFactory.CreateLogger<IngressController>(), options.HttpEndpoint, options.HttpsEndpoint, e.Message);
                return ListenFailedExitCode;
            }

            return 0;
        });
        return command;
    }

    /// <summary>Stops the proxy once standard input reaches its end, on a thread of its own (the read blocks).</summary>
    private static void WatchStandardInput(CancellationTokenSource stop)
    {
        var thread = new Thread(() =>
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[64];
            try
            {
                while (input.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
            }

            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The proxy ended first.
            }
        })
        {
            IsBackground = true,
            Name = "ingress-proxy stdin",
        };
        thread.Start();
    }

    [LibraryImport("libc", EntryPoint = "setpgid")]
    private static partial int SetProcessGroup(int pid, int processGroup);

    [LoggerMessage(Level = LogLevel.Error, Message = "The ingress controller could not listen on {Http} and {Https}: {Reason}")]
    private static partial void LogListenFailed(ILogger logger, IPEndPoint http, IPEndPoint https, string reason);
}
