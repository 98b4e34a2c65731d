using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Bench.Api;

/// <summary>
/// The floor: bare Kestrel with the same TLS settings and certificate as the API server, answering GET and
/// LIST with bodies captured from the real server and echoing POST bodies with 201. Whatever the API server
/// spends beyond this is its own cost.
/// </summary>
internal static class FloorServer
{
    public static async Task RunAsync(string tlsDirectory, string bodiesDirectory, int port)
    {
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(tlsDirectory, "serving.crt"), Path.Combine(tlsDirectory, "serving.key"));
        var getBody = await File.ReadAllBytesAsync(Path.Combine(bodiesDirectory, "get.json"));
        var listBody = await File.ReadAllBytesAsync(Path.Combine(bodiesDirectory, "list.json"));
        // The empty builder, as the server's: a default one watches the whole working directory tree for configuration files.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                });
            });
        });
        var app = builder.Build();
        app.Run(async context =>
        {
            var response = context.Response;
            response.ContentType = "application/json";
            if (HttpMethods.IsPost(context.Request.Method))
            {
                using var copy = new MemoryStream();
                await context.Request.Body.CopyToAsync(copy);
                response.StatusCode = StatusCodes.Status201Created;
                await response.Body.WriteAsync(copy.ToArray());
                return;
            }

            var body = context.Request.Path.Value!.EndsWith("/configmaps", StringComparison.Ordinal) ? listBody : getBody;
            if (context.Request.Path == "/readyz")
            {
                body = "ok"u8.ToArray();
            }

            await response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        Console.WriteLine("floor ready");
        await app.WaitForShutdownAsync();
    }
}
