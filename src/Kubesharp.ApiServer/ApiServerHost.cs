using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.Health;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Nodes;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Kubesharp.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer;

/// <summary>
/// The running API server: Kestrel over HTTPS with client-certificate and token authentication, health and
/// version endpoints, discovery, OpenAPI and REST for every resource of the catalog, served from a watch cache.
/// </summary>
public sealed partial class ApiServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WatchCache _cache;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly KubeletClient _kubelets;
    // Pending until start-up runs: requests that arrive before it are kept out too.
    private Task _startup = new TaskCompletionSource().Task;
    private Task _memory = Task.CompletedTask;
    private readonly TimeProvider _timeProvider;
    private readonly List<IDisposable> _disposables = [];
    private Audit.Auditor? _auditor;
    private Aggregation.ApiAggregator? _aggregator;
    private History.ObjectHistory? _history;
    private InProcess.InProcessTransport? _inProcess;

    private ApiServerHost(WebApplication app, WatchCache cache, ClusterCertificates certificates, ApiServerOptions options, KubeletClient kubelets, TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        _kubelets = kubelets;
        _app = app;
        _cache = cache;
        Certificates = certificates;
        Options = options;
        _logger = logger;
        var storeHealth = cache.Store as IStoreHealth;
        Liveness.Add("ping", () => null);
        Liveness.Add("log", () => null);
        Liveness.Add("etcd", () => storeHealth?.Problem);
        Readiness.Add("ping", () => null);
        Readiness.Add("log", () => null);
        Readiness.Add("etcd", () => storeHealth?.Problem);
        Readiness.Add("watch-cache", () => cache.Problem);
        Readiness.Add("poststarthook/bootstrap-controller", () => _startup switch
        {
            { IsCompletedSuccessfully: true } => null,
            { IsFaulted: true } failed => $"start-up failed: {failed.Exception!.GetBaseException().Message}",
            _ => "the bootstrap objects are not created yet",
        });
        Health = new HealthEndpoint(Liveness, Readiness);
        Gate = new StartupGate(() => _startup);
    }

    public ApiServerOptions Options { get; }

    /// <summary>The client URL of the etcd member beside this server (<c>--cluster-init</c>), given to servers that join; null without one.</summary>
    public string? EtcdMemberClientUrl { get; set; }

    public ClusterCertificates Certificates { get; }

    /// <summary>https://host:port clients should use.</summary>
    public Uri Url { get; private set; } = null!;

    public string KubeconfigPath => Path.Combine(Options.DataDir, "kubeconfig.yaml");

    /// <summary>Completes when the cache is filled and the bootstrap objects exist; until then resource requests get 429.</summary>
    public Task Ready => _startup;

    /// <summary>
    /// The checks of /readyz. The API server's own come first (the store, the watch cache, the bootstrap objects);
    /// the composition adds those of the components it runs beside it (informer sync, the node agent).
    /// </summary>
    public HealthChecks Readiness { get; } = new();

    /// <summary>The checks of /livez and /healthz.</summary>
    public HealthChecks Liveness { get; } = new();

    internal HealthEndpoint Health { get; }

    /// <summary>This server's own metrics (requests, store, watch cache); <c>/metrics</c> serves them before the process's.</summary>
    public Prometheus.CollectorRegistry MetricsRegistry { get; private init; } = null!;

    internal StartupGate Gate { get; }

    public static async Task<ApiServerHost> StartAsync(
        ApiServerOptions options,
        IStore store,
        IReadOnlyList<ApiResource> resources,
        OpenApiEndpoint? openApi,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.DataDir);
        var phases = System.Diagnostics.Stopwatch.StartNew();
        var logger = loggerFactory.CreateLogger<ApiServerHost>();
        // Encryption sits between the API server and the store: the store only ever sees the bytes it is given.
        var encrypting = new Encryption.EncryptingStore(store, options.EncryptionProviderConfig is { } encryptionConfig
            ? Encryption.EncryptionConfiguration.Load(encryptionConfig)
            : Encryption.EncryptionConfiguration.None);
        store = encrypting;
        var certificates = ClusterCertificates.LoadOrCreate(options.DataDir, options.BindAddress, timeProvider, options.ServiceCidr.KubernetesServiceIp,
            [.. options.AdvertiseAddress is { } advertised ? [advertised.ToString()] : Array.Empty<string>(), .. options.TlsSans]);
        LogPhase(logger, "certificates", phases.ElapsedMilliseconds);
        var tokens = RequestAuthenticator.LoadOrCreateTokens(options.DataDir);
        var authenticator = new RequestAuthenticator(certificates.Ca, tokens);
        var kubelets = new KubeletClient(certificates, tokens.FirstOrDefault(t => t.Value.Name == RequestAuthenticator.AgentUser).Key, timeProvider);

        // Building the serving certificate's TLS context reads the system's trust store (hundreds of milliseconds);
        // it runs beside the rest of start-up, and the first handshake waits for it.
        var serving = certificates.Serving;
        var servingContext = Task.Run(() => SslStreamCertificateContext.Create(serving, additionalCertificates: null, offline: true), CancellationToken.None);

        // The empty builder: no configuration files (a default builder watches the working directory tree for
        // appsettings changes, which costs start-up time and memory), no environment configuration, no routing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = options.DataDir });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddHttpForwarder();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            // Long label and field selectors fit, as in upstream's 1 MiB header budget. Kestrel's limits are above that
            // budget so the handler answers an oversized head as upstream does (RequestHeadLimit); the input buffer
            // must hold a whole request line.
            kestrel.Limits.MaxRequestLineSize = RequestHeadLimit.ServerLimit;
            kestrel.Limits.MaxRequestHeadersTotalSize = RequestHeadLimit.ServerLimit;
            kestrel.Limits.MaxRequestBufferSize = RequestHeadLimit.ServerLimit;
            kestrel.Limits.MaxRequestHeaderCount = RequestHeadLimit.MaxHeaderCount;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = RequestHeadLimit.ServerLimit;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            var addresses = ListenAddresses(options);
            // One port on every address: with "any free port" asked for, take one first.
            var port = options.HttpsPort == 0 && addresses.Count > 1 ? FreePort(options.BindAddress) : options.HttpsPort;
            foreach (var address in addresses)
            {
                kestrel.Listen(address, port, Configure);
            }

            void Configure(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = async _ => new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = await servingContext.ConfigureAwait(false),
                        // Asked for, not required: token clients send none.
                        ClientCertificateRequired = true,
#pragma warning disable CA5359 // chains are verified per certificate by the authenticator, so a bad certificate gets a 401 Status
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    },
                });
            }
        });

        var app = builder.Build();
        var metrics = new Metrics.ApiServerMetrics();
        store = new Metrics.MeasuredStore(store, metrics);
        var cache = new WatchCache(store, resources, options.WatchCacheEventsPerResource, loggerFactory.CreateLogger<WatchCache>());
        metrics.CountObjectsOf(cache);
        var host = new ApiServerHost(app, cache, certificates, options, kubelets, timeProvider, logger) { MetricsRegistry = metrics.Registry };
        var registry = new ResourceRegistry(resources, cache, store, options, timeProvider, loggerFactory);
        if (options.History.Enabled)
        {
            // Resources the encryption configuration names keep no history: it would hold their values outside its reach.
            registry.History = new History.ObjectHistory(store, options.History, resource => encrypting.Configuration.HasRules && encrypting.Configuration.ProvidersOf(resource) is not null, timeProvider, loggerFactory.CreateLogger<History.ObjectHistory>());
            host._disposables.Add(registry.History);
            host._history = registry.History;
        }

        var flowControl = options.EnablePriorityAndFairness ? FlowControl.FlowController.Create(registry, loggerFactory.CreateLogger<FlowControl.FlowController>()) : null;
        flowControl?.ReportTo(metrics.Registry);
        var maxInFlight = options.EnablePriorityAndFairness ? null : new FlowControl.MaxInFlightLimit(options.MaxRequestsInflight, options.MaxMutatingRequestsInflight);
        maxInFlight?.ReportTo(metrics.Registry);
        var authorizer = new Authorization.RequestAuthorizer(registry);
        registry.Authorizer = authorizer;
        host._auditor = options.Audit is { } audit ? new Audit.Auditor(audit, timeProvider, loggerFactory) : null;
        host.SecretsEncryption = new Encryption.SecretsEncryption(encrypting, options.EncryptionProviderConfig, cache.WaitForRevisionAsync, timeProvider, loggerFactory.CreateLogger<Encryption.SecretsEncryption>());
        host._disposables.Add(host.SecretsEncryption);
        host._disposables.Add(registry.Webhooks);
        var forwarder = app.Services.GetRequiredService<Yarp.ReverseProxy.Forwarder.IHttpForwarder>();
        host._aggregator = new Aggregation.ApiAggregator(registry, FrontProxyCertificates.LoadOrCreate(certificates.Directory, timeProvider), forwarder, loggerFactory);
        host._disposables.Add(host._aggregator);
        var handler = new RequestHandler(registry, authenticator, authorizer, host, openApi ?? new OpenApiEndpoint(null, null), kubelets, metrics, loggerFactory.CreateLogger<RequestHandler>(), flowControl, forwarder, host._auditor, host._aggregator, maxInFlight);
        app.Run(handler.HandleAsync);
        host._inProcess = new InProcess.InProcessTransport(handler.HandleAsync, app.Services);

        LogPhase(logger, "request pipeline built", phases.ElapsedMilliseconds);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        LogPhase(logger, "Kestrel started", phases.ElapsedMilliseconds);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port;
        var hostName = options.BindAddress.Equals(IPAddress.Any) || options.BindAddress.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(options.BindAddress)
            ? "127.0.0.1"
            : options.BindAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{options.BindAddress}]" : options.BindAddress.ToString();
        host.Url = new Uri($"https://{hostName}:{port}");
        host._inProcess.LocalEndPoint = new IPEndPoint(IPAddress.Loopback, port);
        Kubeconfig.Write(host.KubeconfigPath, Kubeconfig.Render(host.Url.ToString().TrimEnd('/'), certificates.CaPem, certificates.AdminCertificatePem, certificates.AdminKeyPem));

        registry.AdvertisedUrl = host.Url;
        registry.Authenticator = authenticator;
        host.ConfigureServiceAccountTokens(registry, authenticator, timeProvider);
        LogPhase(logger, "service-account signing key", phases.ElapsedMilliseconds);
        authenticator.BootstrapTokens = new Security.BootstrapTokens.BootstrapTokenAuthenticator(cache, timeProvider);
        // The OpenAPI documents are built on first request: most clients never ask, and built eagerly they would
        // hold several megabytes for the life of the process.
        host._startup = host.RunStartupAsync(registry, flowControl, host._stopping.Token);
        host._memory = Memory.ProcessMemory.RunAsync(timeProvider, logger, host._stopping.Token);
        LogListening(logger, host.Url);
        return host;
    }

    /// <summary>
    /// A transport for a client in this process (the server's own components): each request goes through this server's
    /// request pipeline as if it had come over HTTPS with <paramref name="clientCertificate"/> — the same authentication,
    /// authorization, admission, flow control, audit, watch streaming and cancellation — without TLS, HTTP/2 framing,
    /// sockets or the thread hand-offs between them. The certificate must carry its private key, as a TLS client's does;
    /// the caller keeps it. Requests after the server stops fail as a refused connection would.
    /// </summary>
    public HttpMessageHandler CreateInProcessHandler(X509Certificate2 clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(clientCertificate);
        if (!clientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("The client certificate needs its private key, as it would for TLS.", nameof(clientCertificate));
        }

        return new InProcess.InProcessHandler(_inProcess!, clientCertificate);
    }

    /// <summary>
    /// A transport for a client this process made itself (the server's own components), which the transport authenticates
    /// as <paramref name="user"/> in <paramref name="groups"/> (and system:authenticated): the same pipeline as
    /// <see cref="CreateInProcessHandler(X509Certificate2)"/>, authorization included, without a certificate to issue,
    /// parse and verify for a caller whose identity the process already knows. Components on other machines, or over
    /// loopback HTTPS, present certificates with the same name and groups.
    /// </summary>
    public HttpMessageHandler CreateInProcessHandler(string user, IReadOnlyList<string> groups)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(groups);
        return new InProcess.InProcessHandler(_inProcess!, new UserInfo(user, [.. groups, UserInfo.AuthenticatedGroup]));
    }

    /// <summary>
    /// Gives back the garbage of start-up (one compacting collection) once the process has gone quiet, within a few
    /// seconds; the composition calls it once the components beside the server have synced, off the path to readiness.
    /// </summary>
    public Task ReleaseStartupMemoryAsync(CancellationToken cancellationToken)
    {
        var allocated = GC.GetTotalAllocatedBytes() >> 20;
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        LogStartupAllocation(_logger, allocated, gen0, gen1, gen2);
        return Memory.ProcessMemory.ReleaseStartupMemoryAsync(_timeProvider, _logger, cancellationToken);
    }

    /// <summary>Service-account tokens: the signing key of the data directory, TokenRequest, their authentication and OIDC discovery.</summary>
    private void ConfigureServiceAccountTokens(ResourceRegistry registry, RequestAuthenticator authenticator, TimeProvider timeProvider)
    {
        var key = Security.ServiceAccountTokens.ServiceAccountSigningKey.LoadOrCreate(Options.DataDir);
        _disposables.Add(key);
        var audiences = Options.ApiAudiences.Count > 0 ? Options.ApiAudiences : [Options.ServiceAccountIssuer];
        var issuer = new Security.ServiceAccountTokens.ServiceAccountTokenIssuer(key, Options.ServiceAccountIssuer, audiences, timeProvider);
        registry.TokenIssuer = issuer;
        registry.TokenRequests = new Security.ServiceAccountTokens.TokenRequestEndpoint(issuer, _cache, Options.MaxRequestBodyBytes);
        authenticator.ServiceAccountTokens = new Security.ServiceAccountTokens.ServiceAccountTokenAuthenticator(issuer, _cache);
        IssuerDiscovery = new Security.ServiceAccountTokens.ServiceAccountIssuerDiscovery(issuer, () => registry.AdvertisedUrl ?? Url);
    }

    internal Security.ServiceAccountTokens.ServiceAccountIssuerDiscovery? IssuerDiscovery { get; private set; }

    /// <summary>The secrets-encrypt verbs over this server's encryption configuration.</summary>
    public Encryption.SecretsEncryption SecretsEncryption { get; private set; } = null!;

    /// <summary>The bind address, plus the advertised one when the bind address is a single other address.</summary>
    internal static List<IPAddress> ListenAddresses(ApiServerOptions options)
    {
        var addresses = new List<IPAddress> { options.BindAddress };
        var wildcard = options.BindAddress.Equals(IPAddress.Any) || options.BindAddress.Equals(IPAddress.IPv6Any);
        if (options.AdvertiseAddress is { } advertised && !wildcard && !advertised.Equals(options.BindAddress) && !IPAddress.IsLoopback(advertised))
        {
            addresses.Add(advertised);
        }

        return addresses;
    }

    private static int FreePort(IPAddress address)
    {
        using var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task RunStartupAsync(ResourceRegistry registry, FlowControl.FlowController? flowControl, CancellationToken cancellationToken)
    {
        var phases = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await _cache.StartAsync(cancellationToken).ConfigureAwait(false);
            LogPhase(_logger, "watch cache filled", phases.ElapsedMilliseconds);
            await (registry.History?.UpgradeAsync(cancellationToken) ?? History.ObjectHistory.RemoveEarlierRecordsAsync(registry.Store, _logger, cancellationToken)).ConfigureAwait(false);
            // Independent of each other, so made together: their writes share the store's commits.
            await Task.WhenAll(
                registry.BootstrapAsync(cancellationToken),
                Authorization.BootstrapPolicyReconciler.ReconcileAsync(registry, cancellationToken),
                registry.StartCustomResourcesAsync(cancellationToken),
                flowControl?.StartAsync(cancellationToken) ?? Task.CompletedTask).ConfigureAwait(false);
            LogPhase(_logger, "bootstrap objects and policy, custom resources and flow control", phases.ElapsedMilliseconds);
            // After the system namespaces (its ConfigMap) and the custom resources (their groups' APIServices).
            await (_aggregator?.StartAsync(Certificates.CaPem, cancellationToken) ?? Task.CompletedTask).ConfigureAwait(false);
            LogPhase(_logger, "API services", phases.ElapsedMilliseconds);
            registry.StartBackgroundWork(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogStartupFailed(_logger, ex);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _memory.ConfigureAwait(false);
        try
        {
            await (_aggregator?.AvailabilityRun ?? Task.CompletedTask).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            // As Kestrel drains its connections: the in-process requests end before the cache and the store go.
            await (_inProcess?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
            _inProcess?.Dispose();

            // Every request has ended: what the audit log holds queued is written out before the server is gone.
            if (_auditor is not null)
            {
                await _auditor.DisposeAsync().ConfigureAwait(false);
            }

            // Who made the last writes and when is written before the store is closed.
            if (_history is { } history)
            {
                try
                {
                    await history.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (StorageException)
                {
                }
            }

            await _cache.DisposeAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
            _kubelets.Dispose();
            Certificates.Dispose();
            _disposables.ForEach(d => d.Dispose());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API server listening on {Url}")]
    private static partial void LogListening(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up of the API server: {Phase} at {Milliseconds} ms")]
    private static partial void LogPhase(ILogger logger, string phase, long milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up allocated {Megabytes} MB; collections during it: {Gen0} gen0, {Gen1} gen1, {Gen2} gen2")]
    private static partial void LogStartupAllocation(ILogger logger, long megabytes, int gen0, int gen1, int gen2);

    [LoggerMessage(Level = LogLevel.Error, Message = "API server startup failed")]
    private static partial void LogStartupFailed(ILogger logger, Exception exception);
}
