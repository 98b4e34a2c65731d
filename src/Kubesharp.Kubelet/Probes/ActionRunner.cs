using System.Net.Sockets;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.Cri;

namespace Kubesharp.Kubelet.Probes;

/// <summary>Runs the actions probes and lifecycle hooks share: exec in the container, HTTP GET and TCP connect to the pod.</summary>
internal sealed class ActionRunner : IDisposable
{
    private readonly IRuntimeService runtime;
    private readonly HttpClient http;

    public ActionRunner(IRuntimeService runtime)
    {
        this.runtime = runtime;
        http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.Zero,
#pragma warning disable CA5359 // probes to HTTPS endpoints skip verification, as upstream does
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
#pragma warning restore CA5359
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("kube-probe/1.32");
    }

    /// <summary>Success and a message describing a failure.</summary>
    public async Task<(bool Success, string Message)> RunExecAsync(string containerId, ExecAction exec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var response = await runtime.ExecSyncAsync(containerId, exec.Command ?? [], timeout, cancellationToken);
        return response.ExitCode == 0
            ? (true, "")
            : (false, $"command exited with {response.ExitCode}: {response.Stdout.ToStringUtf8()}{response.Stderr.ToStringUtf8()}");
    }

    public async Task<(bool Success, string Message)> RunHttpGetAsync(HTTPGetAction action, string host, Container container, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var port = ResolvePort(action.Port, container);
        var scheme = string.Equals(action.Scheme, "HTTPS", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
        var path = action.Path ?? "/";
        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }

        var target = action.Host is { Length: > 0 } h ? h : host;
        if (target.Contains(':', StringComparison.Ordinal))
        {
            target = "[" + target + "]";
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{scheme}://{target}:{port}{path}"));
        foreach (var header in action.HttpHeaders ?? [])
        {
            if (header.Name is { } name)
            {
                request.Headers.TryAddWithoutValidation(name, header.Value ?? "");
            }
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 400 ? (true, "") : (false, $"HTTP probe failed with statuscode: {code}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"Get \"{request.RequestUri}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            return (false, $"Get \"{request.RequestUri}\": {e.Message}");
        }
    }

    public async Task<(bool Success, string Message)> RunTcpAsync(TCPSocketAction action, string host, Container container, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var port = ResolvePort(action.Port, container);
        var target = action.Host is { Length: > 0 } h ? h : host;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync(target, port, timeoutSource.Token);
            return (true, "");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"dial tcp {target}:{port}: i/o timeout");
        }
        catch (SocketException e)
        {
            return (false, $"dial tcp {target}:{port}: {e.Message}");
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>A numeric port, or the container port with that name.</summary>
    public static int ResolvePort(IntOrString? port, Container container)
    {
        if (port is not { } value)
        {
            throw new InvalidOperationException("probe without a port");
        }

        if (!value.IsString)
        {
            return value.IntValue;
        }

        if (int.TryParse(value.StringValue, out var number))
        {
            return number;
        }

        return container.Ports?.FirstOrDefault(p => p.Name == value.StringValue)?.ContainerPortValue
            ?? throw new InvalidOperationException($"container has no port named \"{value.StringValue}\"");
    }
}
