using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// Heads (request line and headers) over upstream's 1 MiB budget get upstream's 431 with its text body, sent as
/// raw HTTP/1.1 over TLS since an HTTP client would refuse to send them.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RequestHeadLimitTests(TestServer server)
{
    private const int Budget = (1024 * 1024) + 4096;

    [Fact]
    public async Task LongQuery_OverTheBudget_Answers431WithTextBody()
    {
        var response = await SendRawAsync("GET /api/v1/namespaces/default/configmaps?labelSelector=" + new string('a', Budget + (200 * 1024)) + " HTTP/1.1\r\nHost: x\r\n\r\n");

        AssertUpstream431(response);
    }

    [Fact]
    public async Task LongPath_OverTheBudget_Answers431WithTextBody()
    {
        var response = await SendRawAsync("GET /api/v1/namespaces/default/configmaps/" + new string('a', Budget) + " HTTP/1.1\r\nHost: x\r\n\r\n");

        AssertUpstream431(response);
    }

    [Fact]
    public async Task ManyHeaders_OverTheBudget_Answers431WithTextBody()
    {
        var head = new StringBuilder("GET /version HTTP/1.1\r\nHost: x\r\n");
        for (var i = 0; i < 2200; i++)
        {
            head.Append("X-Filler-").Append(i).Append(": ").Append('v', 500).Append("\r\n");
        }

        var response = await SendRawAsync(head.Append("\r\n").ToString());

        AssertUpstream431(response);
    }

    [Fact]
    public async Task OneLargeHeader_OverTheBudget_Answers431WithTextBody()
    {
        var response = await SendRawAsync("GET /version HTTP/1.1\r\nHost: x\r\nX-Large: " + new string('v', Budget) + "\r\n\r\n");

        AssertUpstream431(response);
    }

    [Fact]
    public async Task HeadersJustUnderTheBudget_AreServed()
    {
        var head = new StringBuilder("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (var i = 0; i < 1918; i++)
        {
            head.Append("X-Filler-").Append(i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).Append(": ").Append('v', 530).Append("\r\n");
        }

        Assert.True(head.Length is > 1024 * 1024 and < Budget, $"head of {head.Length} bytes");
        var response = await SendRawAsync(head.Append("\r\n").ToString());

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n2\r\nok\r\n0\r\n\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLineBeyondTheServerLimit_IsRefusedWithoutA5xxAndTheServerServesOn()
    {
        var response = await SendRawAsync("GET /version?q=" + new string('a', 3 * Budget) + " HTTP/1.1\r\nHost: x\r\n\r\n");

        // Kestrel itself refuses it (after reading twice the budget at most) or resets the connection while the rest arrives.
        Assert.True(response.Length == 0 || response.StartsWith("HTTP/1.1 4", StringComparison.Ordinal), response[..Math.Min(200, response.Length)]);
        var (status, _) = await server.GetAsync("/readyz");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
    }

    private static void AssertUpstream431(string response)
    {
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", response, StringComparison.Ordinal);
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = response[..split].Split("\r\n").Skip(1).Select(h => h.Split(": ", 2)).ToDictionary(h => h[0], h => h[1], StringComparer.OrdinalIgnoreCase);
        Assert.Equal("text/plain; charset=utf-8", headers["Content-Type"]);
        Assert.Equal("close", headers["Connection"]);
        Assert.Equal("431 Request Header Fields Too Large", response[(split + 4)..]);
    }

    /// <summary>Writes the request over TLS and reads the answer until the server closes the connection.</summary>
    private async Task<string> SendRawAsync(string request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host.Url.Host, server.Host.Url.Port, timeout.Token);
        using var ca = X509Certificate2.CreateFromPem(server.Host.Certificates.CaPem);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is not null && chain.Build(new X509Certificate2(certificate));
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token);
        try
        {
            await tls.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
            await tls.FlushAsync(timeout.Token);
        }
        catch (IOException)
        {
            // The server may refuse and close before the whole request is written; its answer is read below.
        }

        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await tls.ReadAsync(buffer, timeout.Token)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException) when (answer.Length == 0)
        {
            // Reset before any answer: nothing to read.
        }

        return Encoding.ASCII.GetString(answer.ToArray());
    }
}
