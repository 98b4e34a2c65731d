using System.Diagnostics;
using System.Text;
using System.Text.Json;
using k8s;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Kubelet.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;
using Kubernetes = k8s.Kubernetes;
using Pod = Kubesharp.Api.Core.V1.Pod;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// The official clients as independent witnesses against the in-process API server and a real node: the C# client
/// (KubernetesClient) and Debian's python3-kubernetes. Both stream exec, attach and port-forward over WebSocket only.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class OfficialClientEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [OfficialClientFact]
    public async Task CSharpClient_ExecOverWebSocket_OutputStdinAndExitCode()
    {
        await WithPodAsync("cs-shell", Sleeper(), async () =>
        {
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(fixture.Server.KubeconfigPath));
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            var exitCode = await client.NamespacedPodExecAsync("cs-shell", Ns, "app", ["sh", "-c", "read line; echo got-$line; echo oops >&2; exit 5"], false,
                async (stdin, output, error) =>
                {
                    await stdin.WriteAsync("over-websocket\n"u8.ToArray());
                    await stdin.FlushAsync();
                    using var outReader = new StreamReader(output);
                    using var errReader = new StreamReader(error);
                    var outTask = outReader.ReadToEndAsync();
                    var errTask = errReader.ReadToEndAsync();
                    stdout.Append(await outTask);
                    stderr.Append(await errTask);
                },
                CancellationToken.None).WaitAsync(WaitLimit);
            Assert.Equal(5, exitCode);
            Assert.Equal("got-over-websocket\n", stdout.ToString());
            Assert.Equal("oops\n", stderr.ToString());

            var success = await client.NamespacedPodExecAsync("cs-shell", Ns, "app", ["true"], false, (_, _, _) => Task.CompletedTask, CancellationToken.None).WaitAsync(WaitLimit);
            Assert.Equal(0, success);
        });
    }

    [OfficialClientFact]
    public async Task CSharpClient_AttachOverWebSocket_StreamsOutputAndTakesStdin()
    {
        var reader = new Container
        {
            Name = "app",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Stdin = true,
            // Echoes what arrives on its standard input, after a first line of its own.
            Command = ["sh", "-c", "echo attached-ready; while read line; do echo seen-$line; done"],
        };
        await WithPodAsync("cs-attach", reader, async () =>
        {
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(fixture.Server.KubeconfigPath));
            using var socket = await client.WebSocketNamespacedPodAttachAsync("cs-attach", Ns, "app", stderr: true, stdin: true, stdout: true, tty: false).WaitAsync(WaitLimit);
            using var demux = new StreamDemuxer(socket);
            demux.Start();
            await using var stdin = demux.GetStream(null, ChannelIndex.StdIn);
            using var stdout = new StreamReader(demux.GetStream(ChannelIndex.StdOut, null));
            await stdin.WriteAsync("over-attach\n"u8.ToArray());
            await stdin.FlushAsync();
            using var limit = new CancellationTokenSource(WaitLimit);
            string? line;
            while ((line = await stdout.ReadLineAsync(limit.Token)) is not null && line != "seen-over-attach")
            {
            }

            Assert.Equal("seen-over-attach", line);
        });
    }

    [OfficialClientFact]
    public async Task CSharpClient_PortForwardOverWebSocket_HttpResponse()
    {
        await WithPodAsync("cs-web", WebServer(), async () =>
        {
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(fixture.Server.KubeconfigPath));
            using var socket = await client.WebSocketNamespacedPodPortForwardAsync("cs-web", Ns, [8080], "v4.channel.k8s.io").WaitAsync(WaitLimit);
            using var demux = new StreamDemuxer(socket, StreamType.PortForward);
            demux.Start();
            await using var stream = demux.GetStream((byte?)0, (byte?)0);
            await stream.WriteAsync("GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n"u8.ToArray());
            await stream.FlushAsync();
            var response = new StringBuilder();
            var buffer = new byte[4096];
            using var limit = new CancellationTokenSource(WaitLimit);
            while (!response.ToString().Contains("hello-over-websocket", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, limit.Token);
                if (read == 0)
                {
                    break;
                }

                response.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            Assert.StartsWith("HTTP/1.1 200 OK", response.ToString(), StringComparison.Ordinal);
            Assert.Contains("hello-over-websocket", response.ToString(), StringComparison.Ordinal);
        });
    }

    [OfficialClientFact]
    public async Task WebSocketV5_ExecWithoutStdin_ChannelsAsV4AndRefusedWithStdinAlone()
    {
        await WithPodAsync("v5-shell", Sleeper(), async () =>
        {
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(fixture.Server.KubeconfigPath));
            using var socket = await client.WebSocketNamespacedPodExecAsync("v5-shell", Ns, ["sh", "-c", "echo v5-out; echo v5-err >&2"], "app", stderr: true, stdin: false, stdout: true, tty: false, webSocketSubProtocol: "v5.channel.k8s.io").WaitAsync(WaitLimit);
            Assert.Equal("v5.channel.k8s.io", socket.SubProtocol);
            var channels = new Dictionary<byte, StringBuilder>();
            var buffer = new byte[16 * 1024];
            using var limit = new CancellationTokenSource(WaitLimit);
            while (true)
            {
                var message = new MemoryStream();
                System.Net.WebSockets.WebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer, limit.Token);
                    message.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);
                if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                {
                    break;
                }

                var bytes = message.ToArray();
                if (bytes.Length > 1)
                {
                    (channels.TryGetValue(bytes[0], out var text) ? text : channels[bytes[0]] = new StringBuilder()).Append(Encoding.UTF8.GetString(bytes, 1, bytes.Length - 1));
                }
            }

            Assert.Equal("v5-out\n", channels[1].ToString());
            Assert.Equal("v5-err\n", channels[2].ToString());
            Assert.Equal("Success", JsonDocument.Parse(channels[3].ToString()).RootElement.GetProperty("status").GetString());

            // Stdin cannot be half-closed over the runtime's v4, so v5 alone with stdin is refused (kubectl then takes SPDY).
            await Assert.ThrowsAnyAsync<Exception>(() => client.WebSocketNamespacedPodExecAsync("v5-shell", Ns, ["cat"], "app", stdin: true, webSocketSubProtocol: "v5.channel.k8s.io").WaitAsync(WaitLimit));
        });
    }

    [OfficialClientFact]
    public async Task PythonClient_ExecOverWebSocket_OutputStdinAndExitCode()
    {
        await WithPodAsync("py-shell", Sleeper(), async () =>
        {
            var result = await RunPythonAsync("exec", Ns, "py-shell");
            Assert.Equal("\"got-hello\\n\"", result["stdout"]);
            Assert.Equal("\"to-stderr\\n\"", result["stderr"]);
            Assert.Equal("7", result["exitcode"]);
            Assert.Equal("\"simple-output\\n\"", result["simple"]);
        });
    }

    [OfficialClientFact]
    public async Task PythonClient_PortForwardOverWebSocket_HttpResponse()
    {
        await WithPodAsync("py-web", WebServer(), async () =>
        {
            var result = await RunPythonAsync("portforward", Ns, "py-web", "8080");
            var response = JsonSerializer.Deserialize<string>(result["response"])!;
            Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
            Assert.Contains("hello-over-websocket", response, StringComparison.Ordinal);
            Assert.Equal("null", result["error"]);
        });
    }

    [OfficialClientFact]
    public async Task PythonClient_WatchPatchRestartConflict_AsUpstream()
    {
        var result = await RunPythonAsync("api", Ns);
        Assert.Equal("200", result["watchstatus"]);
        Assert.Equal("ADDED/py-watched", result["watched"]);
        Assert.Equal("ADDED/py-watched", result["streamed"]);
        Assert.Equal("{\"replaced\": \"yes\"}", result["jsonpatch"]);
        Assert.Equal("{\"kubectl.kubernetes.io/restartedAt\": \"2026-01-01T00:00:00Z\", \"replaced\": \"yes\"}", result["restart"]);
        Assert.Equal("409", result["conflictstatus"]);
        Assert.Equal(
            "\"Operation cannot be fulfilled on configmaps \\\"py-conflict\\\": the object has been modified; please apply your changes to the latest version and try again\"",
            result["conflictmessage"]);
    }

    private async Task<Dictionary<string, string>> RunPythonAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EndToEnd", "OfficialClients", "python_client.py"));
        info.ArgumentList.Add(fixture.Server.KubeconfigPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(WaitLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python client {string.Join(' ', args)} did not finish; stdout: {await stdout}; stderr: {await stderr}");
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"python client {string.Join(' ', args)} failed: {output}{await stderr}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }

    private async Task WithPodAsync(string name, Container container, Func<Task> body)
    {
        var pods = fixture.Client.Resource<Pod>();
        await pods.CreateAsync(new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta { Name = name, Namespace = Ns },
            Spec = new PodSpec { NodeName = fixture.NodeName, Containers = [container], TerminationGracePeriodSeconds = 1 },
        });
        try
        {
            using var timeout = new CancellationTokenSource(WaitLimit);
            while ((await pods.GetAsync(Ns, name, timeout.Token)).Status?.Phase != "Running")
            {
                await Task.Delay(250, timeout.Token);
            }

            await body();
        }
        finally
        {
            await pods.DeleteAsync(Ns, name);
            using var timeout = new CancellationTokenSource(WaitLimit);
            try
            {
                while (true)
                {
                    await pods.GetAsync(Ns, name, timeout.Token);
                    await Task.Delay(250, timeout.Token);
                }
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
        }
    }

    private static Container Sleeper() => new()
    {
        Name = "app",
        Image = NodeFixture.BusyboxImage,
        ImagePullPolicy = "Never",
        Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
    };

    private static Container WebServer() => new()
    {
        Name = "app",
        Image = NodeFixture.BusyboxImage,
        ImagePullPolicy = "Never",
        Command = ["sh", "-c", "mkdir -p /www && echo hello-over-websocket > /www/index.html && exec httpd -f -p 8080 -h /www"],
        Ports = [new ContainerPort { ContainerPortValue = 8080 }],
    };
}
