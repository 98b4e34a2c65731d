using System.Net;

namespace Kubesharp.ApiServer;

/// <summary>What the API server needs to listen, keep its credentials and expire events.</summary>
public sealed class ApiServerOptions
{
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// The address nodes and pods reach the API at (the kubernetes Service's endpoint). When the server binds a
    /// single other address (loopback by default) it listens here too, so pods can reach it.
    /// </summary>
    public IPAddress? AdvertiseAddress { get; init; }

    /// <summary>More host names or IP addresses the serving certificate names (k3s's --tls-san), beside the advertised address.</summary>
    public IReadOnlyList<string> TlsSans { get; init; } = [];

    /// <summary>HTTPS port; 0 picks a free port (tests).</summary>
    public int HttpsPort { get; init; } = 6443;

    /// <summary>Holds server/tls (CA, serving and admin certificates), server/token-auth.csv and kubeconfig.yaml.</summary>
    public required string DataDir { get; init; }

    /// <summary>Cluster IPs come from here; the kubernetes Service gets its first address.</summary>
    public Registry.Strategies.ServiceIpRange ServiceCidr { get; init; } = Registry.Strategies.ServiceIpRange.Default;

    public TimeSpan EventTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Largest accepted request body.</summary>
    public int MaxRequestBodyBytes { get; init; } = 3 * 1024 * 1024;

    /// <summary>
    /// Seats API Priority and Fairness shares among the limited priority levels by their nominal concurrency shares
    /// (upstream: max-requests-inflight + max-mutating-requests-inflight, 400 + 200). A third of upstream's by
    /// default: the server runs on one machine beside its own nodes, and each executing request may hold a whole
    /// list response in memory.
    /// </summary>
    public int TotalConcurrencyLimit { get; init; } = 200;

    /// <summary>
    /// API Priority and Fairness (upstream's --enable-priority-and-fairness, on by default); off, the max-in-flight
    /// limits below protect the server instead.
    /// </summary>
    public bool EnablePriorityAndFairness { get; init; } = true;

    /// <summary>Read-only requests running at once without API Priority and Fairness (upstream's --max-requests-inflight); 0: no limit.</summary>
    public int MaxRequestsInflight { get; init; } = 400;

    /// <summary>Mutating requests running at once without API Priority and Fairness (upstream's --max-mutating-requests-inflight); 0: no limit.</summary>
    public int MaxMutatingRequestsInflight { get; init; } = 200;

    /// <summary>
    /// Whether requests without credentials are served as system:anonymous in system:unauthenticated (and then
    /// authorized like any other user). Off, they get 401; the health endpoints and /version answer either way.
    /// </summary>
    public bool AnonymousAuth { get; init; }

    /// <summary>Watch events kept per resource for watches that resume from an older resourceVersion.</summary>
    public int WatchCacheEventsPerResource { get; init; } = 1000;

    /// <summary>The iss claim of service-account tokens and the issuer of the OIDC discovery document.</summary>
    public string ServiceAccountIssuer { get; init; } = Security.ServiceAccountTokens.ServiceAccountTokenIssuer.DefaultIssuer;

    /// <summary>Audiences the API accepts in service-account tokens; the issuer when empty, as upstream.</summary>
    public IReadOnlyList<string> ApiAudiences { get; init; } = [];

    /// <summary>
    /// An apiserver.config.k8s.io/v1 EncryptionConfiguration file (upstream's --encryption-provider-config); values are
    /// then encrypted between the API server and the store. Null: stored as they are (encrypted values fail to read).
    /// </summary>
    public string? EncryptionProviderConfig { get; init; }

    /// <summary>Which admission plugins run, and their configurations.</summary>
    public Admission.AdmissionOptions Admission { get; init; } = new();

    /// <summary>Every revision of every object kept for <c>kubectl history</c>; off unless a retention is given.</summary>
    public History.HistoryOptions History { get; init; } = new();

    /// <summary>Audit logging (upstream's --audit-policy-file and --audit-log-*); null: no audit log.</summary>
    public Audit.AuditOptions? Audit { get; init; }

    /// <summary>The default data directory: /var/lib/kubesharp for root, ~/.kubesharp otherwise.</summary>
    public static string DefaultDataDir =>
        Environment.UserName == "root" || (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("USER") == "root")
            ? "/var/lib/kubesharp"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kubesharp");
}
