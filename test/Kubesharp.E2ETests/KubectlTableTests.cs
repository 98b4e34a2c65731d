using System.Text.RegularExpressions;

namespace Kubesharp.E2ETests;

/// <summary>
/// <c>kubectl get</c> against the real server prints upstream's headers and cells (server-side printing): one object
/// of each kind below is created, then its headers (plain and -o wide) and the cells that take formatting are read
/// back from kubectl's output.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed partial class KubectlTableTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    private string Ns => "tbl-" + _id;

    private string Manifest => $$$"""
        apiVersion: v1
        kind: Namespace
        metadata: {name: {{{Ns}}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: {{{Ns}}}}
        spec:
          type: NodePort
          selector: {app: web, tier: front}
          ports: [{port: 80, protocol: TCP}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: batch, namespace: {{{Ns}}}}
        spec:
          completions: 3
          suspend: true
          template:
            spec:
              restartPolicy: Never
              containers: [{name: work, image: busybox}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly, namespace: {{{Ns}}}}
        spec:
          schedule: "*/5 * * * *"
          timeZone: Etc/UTC
          suspend: true
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: work, image: busybox}]
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: web, namespace: {{{Ns}}}}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          minReplicas: 1
          maxReplicas: 5
          metrics:
          - type: Resource
            resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: site, namespace: {{{Ns}}}}
        spec:
          ingressClassName: edge
          tls: [{hosts: [a.example.com]}]
          rules:
          - host: a.example.com
          - host: b.example.com
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: reader, namespace: {{{Ns}}}}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: readers, namespace: {{{Ns}}}}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
        subjects:
        - {kind: User, apiGroup: rbac.authorization.k8s.io, name: alice}
        - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: devs}
        - {kind: ServiceAccount, name: builder, namespace: {{{Ns}}}}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: viewers-{{{_id}}}}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
        subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: auditors}]
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: slow-{{{_id}}}}
        provisioner: kubernetes.io/no-provisioner
        reclaimPolicy: Retain
        volumeBindingMode: WaitForFirstConsumer
        allowVolumeExpansion: true
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: vol-{{{_id}}}}
        spec:
          capacity: {storage: 2048Mi}
          accessModes: [ReadWriteMany, ReadWriteOnce]
          persistentVolumeReclaimPolicy: Retain
          storageClassName: slow-{{{_id}}}
          volumeMode: Filesystem
          hostPath: {path: /tmp/vol-{{{_id}}}}
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data, namespace: {{{Ns}}}}
        spec:
          storageClassName: none-{{{_id}}}
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: {{{Ns}}}}
        spec:
          minAvailable: 1
          selector: {matchLabels: {app: web}}
        ---
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: high-{{{_id}}}}
        value: 1000
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: {{{Ns}}}}
        spec:
          replicas: 0
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers: [{name: db, image: postgres:16}]
        """;

    public async Task InitializeAsync() => (await _kubectl.RunAsync(["apply", "-f", "-"], Manifest, null)).Ok();

    public async Task DisposeAsync()
    {
        await _kubectl.RunAsync("delete", "clusterrolebinding", "viewers-" + _id, "--ignore-not-found");
        await _kubectl.RunAsync("delete", "storageclass", "slow-" + _id, "--ignore-not-found");
        await _kubectl.RunAsync("delete", "pv", "vol-" + _id, "--ignore-not-found", "--wait=false");
        await _kubectl.RunAsync("delete", "priorityclass", "high-" + _id, "--ignore-not-found");
        await _kubectl.RunAsync("delete", "namespace", Ns, "--wait=false");
    }

    [Fact]
    public async Task GetStorage_PrintsUpstreamColumnsAndCells()
    {
        var pv = await GetAsync("pv", "vol-" + _id);
        Assert.Equal(["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"], pv.Headers);
        Assert.Equal("2Gi", pv["CAPACITY"]);
        Assert.Equal("RWO,RWX", pv["ACCESS MODES"]);
        Assert.Equal("Retain", pv["RECLAIM POLICY"]);
        Assert.Equal("slow-" + _id, pv["STORAGECLASS"]);
        Assert.Equal("<unset>", pv["VOLUMEATTRIBUTESCLASS"]);
        var pvWide = await GetAsync("pv", "vol-" + _id, "-o", "wide");
        Assert.Equal("VOLUMEMODE", pvWide.Headers[^1]);
        Assert.Equal("Filesystem", pvWide["VOLUMEMODE"]);

        var pvc = await GetAsync("pvc", "data", "-n", Ns);
        Assert.Equal(["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"], pvc.Headers);
        Assert.Equal("none-" + _id, pvc["STORAGECLASS"]);
        Assert.Equal(string.Empty, pvc["CAPACITY"]);
        Assert.Equal(["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE"], (await GetAsync("pvc", "data", "-n", Ns, "-o", "wide")).Headers);

        var sc = await GetAsync("sc", "slow-" + _id);
        Assert.Equal(["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"], sc.Headers);
        Assert.Equal("kubernetes.io/no-provisioner", sc["PROVISIONER"]);
        Assert.Equal("Retain", sc["RECLAIMPOLICY"]);
        Assert.Equal("WaitForFirstConsumer", sc["VOLUMEBINDINGMODE"]);
        Assert.Equal("true", sc["ALLOWVOLUMEEXPANSION"]);
        (await _kubectl.RunAsync("annotate", "sc", "slow-" + _id, "storageclass.beta.kubernetes.io/is-default-class=true")).Ok();
        Assert.Equal($"slow-{_id} (default)", (await GetAsync("sc", "slow-" + _id))["NAME"]);
    }

    [Fact]
    public async Task GetWorkloads_PrintsUpstreamColumnsAndLiveStatus()
    {
        var sts = await GetAsync("sts", "db", "-n", Ns);
        Assert.Equal(["NAME", "READY", "AGE"], sts.Headers);
        Assert.Equal("0/0", sts["READY"]);
        var stsWide = await GetAsync("sts", "db", "-n", Ns, "-o", "wide");
        Assert.Equal(["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"], stsWide.Headers);
        Assert.Equal("postgres:16", stsWide["IMAGES"]);

        var job = await GetAsync("job", "batch", "-n", Ns);
        Assert.Equal(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], job.Headers);
        Assert.Equal("0/3", job["COMPLETIONS"]);
        Assert.Equal(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], (await GetAsync("job", "batch", "-n", Ns, "-o", "wide")).Headers);
        // The Job controller reports the suspension; the table follows the object's live status.
        (await _kubectl.RunAsync("wait", "--for=condition=Suspended", "job/batch", "-n", Ns, "--timeout=60s")).Ok();
        Assert.Equal("Suspended", (await GetAsync("job", "batch", "-n", Ns))["STATUS"]);

        var cronJob = await GetAsync("cronjob", "nightly", "-n", Ns);
        Assert.Equal(["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], cronJob.Headers);
        Assert.Equal("*/5 * * * *", cronJob["SCHEDULE"]);
        Assert.Equal("Etc/UTC", cronJob["TIMEZONE"]);
        Assert.Equal("True", cronJob["SUSPEND"]);
        Assert.Equal("0", cronJob["ACTIVE"]);
        Assert.Equal("<none>", cronJob["LAST SCHEDULE"]);

        var hpa = await GetAsync("hpa", "web", "-n", Ns);
        Assert.Equal(["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], hpa.Headers);
        Assert.Equal("Deployment/web", hpa["REFERENCE"]);
        Assert.Matches(@"^cpu: (<unknown>|\d+%)/50%$", hpa["TARGETS"]);
        Assert.Equal("1", hpa["MINPODS"]);
        Assert.Equal("5", hpa["MAXPODS"]);

        var pdb = await GetAsync("pdb", "web", "-n", Ns);
        Assert.Equal(["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], pdb.Headers);
        Assert.Equal("1", pdb["MIN AVAILABLE"]);
        Assert.Equal("N/A", pdb["MAX UNAVAILABLE"]);
    }

    [Fact]
    public async Task GetNetworkingAndNodes_PrintsUpstreamColumnsAndCells()
    {
        var svc = await GetAsync("svc", "web", "-n", Ns, "-o", "wide");
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"], svc.Headers);
        Assert.Equal("NodePort", svc["TYPE"]);
        Assert.Equal("<none>", svc["EXTERNAL-IP"]);
        Assert.Matches(@"^80:\d+/TCP$", svc["PORT(S)"]);
        Assert.Equal("app=web,tier=front", svc["SELECTOR"]);

        var ingress = await GetAsync("ingress", "site", "-n", Ns);
        Assert.Equal(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], ingress.Headers);
        Assert.Equal("edge", ingress["CLASS"]);
        Assert.Equal("a.example.com,b.example.com", ingress["HOSTS"]);
        Assert.Equal("80, 443", ingress["PORTS"]);

        var nodes = await GetAsync("nodes", null, "-o", "wide");
        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], nodes.Headers);
        Assert.Matches("^(Ready|NotReady)", nodes["STATUS"]);
        Assert.Matches(@"^v\d+\.\d+", nodes["VERSION"]);

        var priority = await GetAsync("priorityclass", "high-" + _id);
        Assert.Equal(["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], priority.Headers);
        Assert.Equal("1000", priority["VALUE"]);
        Assert.Equal("false", priority["GLOBAL-DEFAULT"]);
    }

    [Fact]
    public async Task GetRbac_PrintsRoleAndSubjectsWide()
    {
        var role = await GetAsync("role", "reader", "-n", Ns);
        Assert.Equal(["NAME", "CREATED AT"], role.Headers);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", role["CREATED AT"]);

        var binding = await GetAsync("rolebinding", "readers", "-n", Ns, "-o", "wide");
        Assert.Equal(["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], binding.Headers);
        Assert.Equal("Role/reader", binding["ROLE"]);
        Assert.Equal("alice", binding["USERS"]);
        Assert.Equal("devs", binding["GROUPS"]);
        Assert.Equal(Ns + "/builder", binding["SERVICEACCOUNTS"]);

        var clusterBinding = await GetAsync("clusterrolebinding", "viewers-" + _id);
        Assert.Equal(["NAME", "ROLE", "AGE"], clusterBinding.Headers);
        Assert.Equal("ClusterRole/view", clusterBinding["ROLE"]);
    }

    /// <summary>Runs <c>kubectl get</c> and reads the header line and the first row, cells cut at the headers' offsets.</summary>
    private async Task<PrintedTable> GetAsync(string resource, string? name, params string[] more)
    {
        string[] args = name is null ? ["get", resource, .. more] : ["get", resource, name, .. more];
        var output = (await _kubectl.RunAsync(args)).Ok().Output;
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2, $"kubectl {string.Join(' ', args)} printed no row:\n{output}");
        var headers = HeaderSplit().Split(lines[0].TrimEnd()).ToArray();
        var starts = new int[headers.Length];
        var at = 0;
        for (var i = 0; i < headers.Length; i++)
        {
            starts[i] = lines[0].IndexOf(headers[i], at, StringComparison.Ordinal);
            at = starts[i] + headers[i].Length;
        }

        var cells = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < headers.Length; i++)
        {
            var row = lines[1];
            var start = Math.Min(starts[i], row.Length);
            var end = i + 1 < headers.Length ? Math.Min(starts[i + 1], row.Length) : row.Length;
            cells[headers[i]] = row[start..end].Trim();
        }

        return new PrintedTable(headers, cells);
    }

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex HeaderSplit();

    private sealed record PrintedTable(string[] Headers, Dictionary<string, string> Cells)
    {
        public string this[string header] => Cells[header];
    }
}
