using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client;

/// <summary>
/// A connection to one API server (HTTP/2 over TLS when offered, HTTP/1.1 otherwise) and the factory of typed
/// resource clients. Thread-safe; share one per process and component.
/// </summary>
public sealed class KubernetesClient : IDisposable
{
    private static readonly Dictionary<(string Group, string Version, string Kind), ApiResource> ResourcesByKind = BuildKindIndex();

    /// <summary>Lists as PartialObjectMetadataList, single objects and watch events as PartialObjectMetadata.</summary>
    private const string PartialObjectMetadataAccept =
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

    private readonly HttpClient http;
    private readonly ConcurrentDictionary<Type, object> resourceClients = new();
    private readonly X509Certificate2? clientCertificate;
    private readonly X509Certificate2Collection? trustedAuthorities;

    public KubernetesClient(KubernetesClientOptions options)
        : this(options, null)
    {
    }

    /// <summary>With <paramref name="handler"/> the caller supplies the transport (and owns TLS).</summary>
    public KubernetesClient(KubernetesClientOptions options, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        if (handler is null)
        {
            var sockets = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(10),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            };
            if (options.ClientCertificatePem is { } cert && options.ClientKeyPem is { } key)
            {
                // On Linux SslStream signs with a key loaded from PEM as it is (no PKCS#12 round trip, which costs two key
                // derivations per certificate).
                clientCertificate = X509Certificate2.CreateFromPem(cert, key);
                sockets.SslOptions.ClientCertificates = [clientCertificate];
            }

            if (options.InsecureSkipTlsVerify)
            {
#pragma warning disable CA5359 // insecure-skip-tls-verify is an explicit opt-in of the kubeconfig
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
            }
            else if (options.CertificateAuthorityPem is { } ca)
            {
                trustedAuthorities = [];
                trustedAuthorities.ImportFromPem(ca);
                sockets.SslOptions.RemoteCertificateValidationCallback = ValidateServerCertificate;
            }

            handler = sockets;
        }

        http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = options.Server,
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (options.BearerToken is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public KubernetesClientOptions Options { get; }

    /// <summary>Reads a kubeconfig file and connects with its current (or the named) context.</summary>
    public static KubernetesClient FromKubeconfig(string path, string? context = null) =>
        new(KubernetesClientOptions.FromKubeconfig(path, context));

    /// <summary>The typed client of a kind, resolved through the API catalog.</summary>
    public ResourceClient<T> Resource<T>()
        where T : class, IKubernetesObject, IKubernetesKind, new() =>
        (ResourceClient<T>)resourceClients.GetOrAdd(typeof(T), _ => new ResourceClient<T>(this, ResourceFor<T>()));

    /// <summary>
    /// Get, list, watch, patch and delete of any resource (built-in or custom, as discovery names it) with the
    /// objects reduced to their metadata by the server (PartialObjectMetadata).
    /// </summary>
    public ResourceClient<PartialObjectMetadata> MetadataResource(ApiResource resource) =>
        new(this, resource, PartialObjectMetadataAccept);

    /// <summary>The catalog entry (plural, scope) of a kind.</summary>
    public static ApiResource ResourceFor<T>()
        where T : IKubernetesKind
    {
        var gvk = T.GroupVersionKind;
        return ResourcesByKind.TryGetValue((gvk.Group, gvk.Version, gvk.Kind), out var resource)
            ? resource
            : throw new InvalidOperationException($"no resource serves {gvk}");
    }

    public void Dispose()
    {
        http.Dispose();
        clientCertificate?.Dispose();
    }

    /// <summary>
    /// GETs an API path as JSON (discovery documents, objects of kinds without a generated type); null on 404.
    /// </summary>
    public Task<System.Text.Json.Nodes.JsonObject?> GetJsonAsync(string path, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends a JSON body (or none) to an API path and reads the JSON answer; null on 404.</summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> SendJsonAsync(HttpMethod method, string path, System.Text.Json.Nodes.JsonObject? body, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendRequiredJsonAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiMachinery.Errors.StatusException e) when (e.Code == 404)
        {
            return null;
        }
    }

    /// <summary>As <see cref="SendJsonAsync"/>, but a 404 is a StatusException carrying the server's message, for callers that show it.</summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> SendRequiredJsonAsync(HttpMethod method, string path, System.Text.Json.Nodes.JsonObject? body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return System.Text.Json.Nodes.JsonNode.Parse(answer) as System.Text.Json.Nodes.JsonObject;
    }

    /// <summary>
    /// Patches the object at an API path (server-side apply of an object of any kind, whose resource discovery named);
    /// the answer is the patched object.
    /// </summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> PatchJsonAsync(string path, PatchType type, System.Text.Json.Nodes.JsonObject patch, PatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var query = new List<string>();
        if ((options?.FieldManager ?? (type == PatchType.Apply ? Options.UserAgent : null)) is { } manager)
        {
            query.Add("fieldManager=" + Uri.EscapeDataString(manager));
        }

        if (options?.Force == true)
        {
            query.Add("force=true");
        }

        using var request = new HttpRequestMessage(HttpMethod.Patch, query.Count == 0 ? path : path + "?" + string.Join('&', query))
        {
            Content = new StringContent(patch.ToJsonString(), System.Text.Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(PatchMediaType.Of(type));
        using var response = await SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return System.Text.Json.Nodes.JsonNode.Parse(answer) as System.Text.Json.Nodes.JsonObject;
    }

    /// <summary>
    /// Sends a request; a non-success answer becomes a StatusException, except 304, which only a request that named
    /// what it holds (If-None-Match) gets back.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool streaming, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        if (streaming)
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw ApiMachinery.Errors.StatusException.Timeout($"request to {request.RequestUri} did not complete in {Options.RequestTimeout.TotalSeconds}s", 1);
            }
        }

        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotModified)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            throw KubernetesJson.ToException((int)response.StatusCode, body);
        }
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(trustedAuthorities!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        if (!custom.Build(leaf))
        {
            return false;
        }

        // Name mismatches still fail: only the trust anchor is ours to decide.
        return (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
    }

    private static Dictionary<(string, string, string), ApiResource> BuildKindIndex()
    {
        var index = new Dictionary<(string, string, string), ApiResource>();
        foreach (var resource in ApiCatalog.Resources)
        {
            index.TryAdd((resource.Group, resource.Version, resource.Kind), resource);
        }

        return index;
    }
}
