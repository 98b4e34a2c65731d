using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests.Dashboard;

/// <summary>
/// Headless Chromium driven over the Chrome DevTools protocol (JSON messages on one WebSocket per page), on a
/// loopback debugging port with a throw-away profile. Enough of the protocol to navigate, run script in the page,
/// wait for a condition and take screenshots.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode>> _pending = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _reader;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Uncaught exceptions and console errors of the page, as Chromium reported them.</summary>
    public ConcurrentQueue<string> PageErrors { get; } = new();

    /// <summary>
    /// What the browser logged itself, such as a resource that failed to load. Kept apart from <see cref="PageErrors"/>:
    /// an answer of 403 or 404 that a page expects is logged here too.
    /// </summary>
    public ConcurrentQueue<string> BrowserLog { get; } = new();

    private static readonly string[] Executables = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    public static string? Find() => Executables.FirstOrDefault(File.Exists);

    public static async Task<HeadlessChromium> StartAsync(int width = 1360, int height = 900, CancellationToken cancellationToken = default)
    {
        var executable = Find() ?? throw new InvalidOperationException("chromium is not installed (Debian package chromium)");
        var profile = Directory.CreateTempSubdirectory("kubesharp-chromium-").FullName;
        var info = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[]
        {
            "--headless=new", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}",
            // The cluster's serving certificate is signed by its own CA, which this throw-away profile does not trust.
            "--ignore-certificate-errors", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio", "--hide-scrollbars",
            $"--window-size={width},{height}", "about:blank",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            // Chromium writes the port it chose into the profile once it listens.
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            var port = 0;
            for (var i = 0; i < 300 && port == 0; i++)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"chromium exited with code {process.ExitCode}");
                }

                if (File.Exists(portFile) && (await File.ReadAllLinesAsync(portFile, cancellationToken)) is [var first, ..] && int.TryParse(first, out var parsed))
                {
                    port = parsed;
                    break;
                }

                await Task.Delay(100, cancellationToken);
            }

            if (port == 0)
            {
                throw new TimeoutException("chromium did not open its debugging port within 30 s");
            }

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var targets = await http.GetFromJsonAsync<JsonArray>("/json/list", cancellationToken) ?? [];
            var page = targets.FirstOrDefault(t => (string?)t?["type"] == "page")
                ?? throw new InvalidOperationException("chromium has no page target");
            await browser._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), cancellationToken);
            browser._reader = browser.ReadAsync();
            await browser.SendAsync("Page.enable", null, cancellationToken);
            await browser.SendAsync("Runtime.enable", null, cancellationToken);
            await browser.SendAsync("Log.enable", null, cancellationToken);
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false }, cancellationToken);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public async Task<JsonNode> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
        var result = await reply.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (result["error"] is { } error)
        {
            throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        }

        return result["result"] ?? new JsonObject();
    }

    /// <summary>
    /// Fails every request whose URL matches <paramref name="urlPattern"/> (wildcards <c>*</c> and <c>?</c>) as a reset
    /// connection, until <see cref="StopFailingRequestsAsync"/>.
    /// </summary>
    public Task FailRequestsAsync(string urlPattern, CancellationToken cancellationToken = default) =>
        SendAsync("Fetch.enable", new JsonObject { ["patterns"] = new JsonArray(new JsonObject { ["urlPattern"] = urlPattern }) }, cancellationToken);

    public Task StopFailingRequestsAsync(CancellationToken cancellationToken = default) => SendAsync("Fetch.disable", null, cancellationToken);

    public async Task NavigateAsync(string url, CancellationToken cancellationToken = default)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, cancellationToken);
        await WaitForAsync("document.readyState === 'complete'", TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true }, cancellationToken);
        if (result["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"script failed: {exception["exception"]?["description"] ?? exception["text"]}");
        }

        return result["result"]?["value"]?.DeepClone();
    }

    public async Task<string> TextAsync(string selector, CancellationToken cancellationToken = default) =>
        (string?)await EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(selector)})?.innerText ?? ''", cancellationToken) ?? string.Empty;

    public Task ClickAsync(string selector, CancellationToken cancellationToken = default) =>
        EvaluateAsync($"(() => {{ const e = document.querySelector({JsonSerializer.Serialize(selector)}); if (!e) throw new Error('no element ' + {JsonSerializer.Serialize(selector)}); e.click(); }})()", cancellationToken);

    /// <summary>Waits (bounded) until <paramref name="condition"/> is truthy in the page; the page's text is in the failure.</summary>
    public async Task WaitForAsync(string condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync($"(() => {{ try {{ return !!({condition}); }} catch {{ return false; }} }})()", cancellationToken);
            if (value is not null && (bool)value)
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                var body = (string?)await EvaluateAsync("document.body?.innerText ?? ''", cancellationToken);
                throw new TimeoutException($"not true within {timeout.TotalSeconds:0} s: {condition}\npage errors: {string.Join(" | ", PageErrors)}\nbrowser log: {string.Join(" | ", BrowserLog)}\npage text:\n{body}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public async Task ScreenshotAsync(string path, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = false }, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String((string)result["data"]!), cancellationToken);
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _stopping.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                {
                    continue;
                }

                var node = JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length))!;
                message.SetLength(0);
                if (node["id"] is { } id && _pending.TryRemove((int)id, out var reply))
                {
                    reply.TrySetResult(node);
                }
                else if ((string?)node["method"] == "Runtime.exceptionThrown")
                {
                    PageErrors.Enqueue(node["params"]?["exceptionDetails"]?["exception"]?["description"]?.ToString() ?? node.ToJsonString());
                }
                else if ((string?)node["method"] == "Runtime.consoleAPICalled" && (string?)node["params"]?["type"] == "error")
                {
                    PageErrors.Enqueue(node["params"]?["args"]?.ToJsonString() ?? string.Empty);
                }
                else if ((string?)node["method"] == "Fetch.requestPaused" && (string?)node["params"]?["requestId"] is { } requestId)
                {
                    // Answered off the reading loop, which must stay free to receive the reply.
                    _ = Task.Run(() => SendAsync("Fetch.failRequest", new JsonObject { ["requestId"] = requestId, ["errorReason"] = "ConnectionReset" }));
                }
                else if ((string?)node["method"] == "Log.entryAdded" && node["params"]?["entry"] is { } entry)
                {
                    BrowserLog.Enqueue($"{entry["level"]} {entry["source"]}: {entry["text"]} {entry["url"]}".TrimEnd());
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }

        foreach (var reply in _pending.Values)
        {
            reply.TrySetException(new InvalidOperationException("the DevTools connection closed"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_reader is not null)
        {
            await _reader;
        }

        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _stopping.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
