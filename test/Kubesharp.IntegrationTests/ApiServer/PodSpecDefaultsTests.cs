using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Upstream's pod spec defaults, given to Pods and to the pod template of every kind that has one.</summary>
[Collection(ServerCollection.Name)]
public sealed class PodSpecDefaultsTests(TestServer server)
{
    private const string Volumes = """
        [{"name":"secret","secret":{"secretName":"s"}},
         {"name":"config","configMap":{"name":"c"}},
         {"name":"downward","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}},
         {"name":"projected","projected":{"sources":[{"serviceAccountToken":{"path":"token","audience":"vault"}},
             {"downwardAPI":{"items":[{"path":"ns","fieldRef":{"fieldPath":"metadata.namespace"}}]}},{"configMap":{"name":"c"}}]}},
         {"name":"host","hostPath":{"path":"/var/log"}},
         {"name":"scratch"},
         {"name":"iscsi","iscsi":{"targetPortal":"10.0.0.1:3260","iqn":"iqn.2001-04.com.example:storage","lun":0}},
         {"name":"rbd","rbd":{"monitors":["10.0.0.2:6789"],"image":"disk"}},
         {"name":"azure","azureDisk":{"diskName":"d","diskURI":"https://example/d.vhd"}},
         {"name":"scaleio","scaleIO":{"gateway":"https://gw","system":"sys","secretRef":{"name":"s"}}},
         {"name":"claim","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}}]
        """;

    private const string Containers = """
        [{"name":"web","image":"nginx","ports":[{"containerPort":80}],
          "env":[{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],
          "resources":{"limits":{"cpu":"500m","memory":"64Mi"}},
          "livenessProbe":{"httpGet":{"port":80}},
          "readinessProbe":{"grpc":{"port":9000}},
          "startupProbe":{"tcpSocket":{"port":80},"periodSeconds":5},
          "lifecycle":{"preStop":{"httpGet":{"port":80,"path":"/quit"}}}},
         {"name":"pinned","image":"registry.local:5000/tools/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
         {"name":"latest","image":"registry.local:5000/app:latest"}]
        """;

    private static readonly string PodSpec = $$$"""{"restartPolicy":"Always","volumes":{{{Volumes}}},"initContainers":[{"name":"init","image":"busybox:1.36"}],"containers":{{{Containers}}}}""";

    private static readonly string Template = $$$"""{"metadata":{"labels":{"app":"x"}},"spec":{{{PodSpec}}}}""";

    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "t" + Guid.NewGuid().ToString("N")[..10];
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    private async Task<JsonObject> CreateAndReadAsync(string path, string name, string body)
    {
        var (status, created) = await server.PostAsync(path, body);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var (read, stored) = await server.GetAsync(path + "/" + name);
        Assert.Equal(HttpStatusCode.OK, read);
        return stored!;
    }

    private static JsonObject Volume(JsonNode spec, string name) =>
        spec["volumes"]!.AsArray().OfType<JsonObject>().Single(v => (string?)v["name"] == name);

    private static JsonObject Container(JsonNode spec, string name) =>
        spec["containers"]!.AsArray().OfType<JsonObject>().Single(c => (string?)c["name"] == name);

    [Fact]
    public async Task Create_DeploymentTemplate_GetsUpstreamPodSpecDefaults()
    {
        var ns = await CreateNamespaceAsync();
        var deployment = await CreateAndReadAsync($"/apis/apps/v1/namespaces/{ns}/deployments", "web", $$$"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}
            """);
        var spec = deployment["spec"]!["template"]!["spec"]!;

        Assert.Equal("ClusterFirst", (string?)spec["dnsPolicy"]);
        Assert.Equal("default-scheduler", (string?)spec["schedulerName"]);
        Assert.Equal(30, (int?)spec["terminationGracePeriodSeconds"]);
        Assert.IsType<JsonObject>(spec["securityContext"]);

        foreach (var name in new[] { "secret", "config", "downward", "projected" })
        {
            Assert.Equal(420, (int?)Volume(spec, name)[name switch { "config" => "configMap", "downward" => "downwardAPI", _ => name }]!["defaultMode"]);
        }

        Assert.Equal("v1", (string?)Volume(spec, "downward")["downwardAPI"]!["items"]![0]!["fieldRef"]!["apiVersion"]);
        var sources = Volume(spec, "projected")["projected"]!["sources"]!;
        Assert.Equal(3600, (long?)sources[0]!["serviceAccountToken"]!["expirationSeconds"]);
        Assert.Equal("vault", (string?)sources[0]!["serviceAccountToken"]!["audience"]);
        Assert.Equal("v1", (string?)sources[1]!["downwardAPI"]!["items"]![0]!["fieldRef"]!["apiVersion"]);
        Assert.Equal(string.Empty, (string?)Volume(spec, "host")["hostPath"]!["type"]);
        Assert.Equal("{}", Volume(spec, "scratch")["emptyDir"]!.ToJsonString());
        Assert.Equal("default", (string?)Volume(spec, "iscsi")["iscsi"]!["iscsiInterface"]);
        var rbd = Volume(spec, "rbd")["rbd"]!;
        Assert.Equal(("rbd", "admin", "/etc/ceph/keyring"), ((string?)rbd["pool"], (string?)rbd["user"], (string?)rbd["keyring"]));
        var azure = Volume(spec, "azure")["azureDisk"]!;
        Assert.Equal(("ReadWrite", "ext4", false, "Shared"), ((string?)azure["cachingMode"], (string?)azure["fsType"], (bool?)azure["readOnly"], (string?)azure["kind"]));
        var scaleIo = Volume(spec, "scaleio")["scaleIO"]!;
        Assert.Equal(("ThinProvisioned", "xfs"), ((string?)scaleIo["storageMode"], (string?)scaleIo["fsType"]));
        Assert.Equal("Filesystem", (string?)Volume(spec, "claim")["ephemeral"]!["volumeClaimTemplate"]!["spec"]!["volumeMode"]);

        var web = Container(spec, "web");
        Assert.Equal("Always", (string?)web["imagePullPolicy"]);
        Assert.Equal("/dev/termination-log", (string?)web["terminationMessagePath"]);
        Assert.Equal("File", (string?)web["terminationMessagePolicy"]);
        Assert.Equal("TCP", (string?)web["ports"]![0]!["protocol"]);
        Assert.Equal("v1", (string?)web["env"]![0]!["valueFrom"]!["fieldRef"]!["apiVersion"]);
        var liveness = web["livenessProbe"]!;
        Assert.Equal((1, 10, 1, 3), ((int?)liveness["timeoutSeconds"], (int?)liveness["periodSeconds"], (int?)liveness["successThreshold"], (int?)liveness["failureThreshold"]));
        Assert.Equal(("/", "HTTP"), ((string?)liveness["httpGet"]!["path"], (string?)liveness["httpGet"]!["scheme"]));
        Assert.Equal(string.Empty, (string?)web["readinessProbe"]!["grpc"]!["service"]);
        Assert.Equal(5, (int?)web["startupProbe"]!["periodSeconds"]);
        Assert.Equal(3, (int?)web["startupProbe"]!["failureThreshold"]);
        Assert.Equal(("/quit", "HTTP"), ((string?)web["lifecycle"]!["preStop"]!["httpGet"]!["path"], (string?)web["lifecycle"]!["preStop"]!["httpGet"]!["scheme"]));
        Assert.Equal("IfNotPresent", (string?)Container(spec, "pinned")["imagePullPolicy"]);
        Assert.Equal("Always", (string?)Container(spec, "latest")["imagePullPolicy"]);
        var init = spec["initContainers"]![0]!;
        Assert.Equal(("IfNotPresent", "File"), ((string?)init["imagePullPolicy"], (string?)init["terminationMessagePolicy"]));

        // Requests come from limits and service links are switched on for Pods only, as upstream keeps templates unchanged by them.
        Assert.Null(web["resources"]!["requests"]);
        Assert.Null(spec["enableServiceLinks"]);
    }

    [Fact]
    public async Task Create_Pod_GetsTemplateDefaultsAndRequestsFromLimits()
    {
        var ns = await CreateNamespaceAsync();
        var pod = await CreateAndReadAsync($"/api/v1/namespaces/{ns}/pods", "web", $$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"hostNetwork":true,"automountServiceAccountToken":false,
             "volumes":{{{Volumes}}},"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":8080}],
             "resources":{"limits":{"cpu":"500m","memory":"64Mi"},"requests":{"cpu":"100m"} } }]}}
            """);
        var spec = pod["spec"]!;

        var web = Container(spec, "web");
        Assert.Equal("""{"cpu":"100m","memory":"64Mi"}""", web["resources"]!["requests"]!.ToJsonString());
        Assert.Equal(8080, (int?)web["ports"]![0]!["hostPort"]);
        Assert.Equal("IfNotPresent", (string?)web["imagePullPolicy"]);
        Assert.True((bool?)spec["enableServiceLinks"]);
        Assert.Equal(3600, (long?)Volume(spec, "projected")["projected"]!["sources"]![0]!["serviceAccountToken"]!["expirationSeconds"]);
        Assert.Equal(420, (int?)Volume(spec, "config")["configMap"]!["defaultMode"]);
        Assert.Equal("Burstable", (string?)pod["status"]!["qosClass"]);
    }

    [Fact]
    public async Task Create_PodWithLimitsUnderLimitRange_TakesRequestsFromLimitsBeforeAdmission()
    {
        var ns = await CreateNamespaceAsync();
        var (limitRange, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/limitranges", """
            {"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"limits"},"spec":{"limits":[{"type":"Container","defaultRequest":{"cpu":"100m","memory":"32Mi"}}]}}
            """);
        Assert.True(limitRange == HttpStatusCode.Created, body?.ToJsonString());

        var pod = await CreateAndReadAsync($"/api/v1/namespaces/{ns}/pods", "p", """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"automountServiceAccountToken":false,
             "containers":[{"name":"c","image":"busybox:1.36","resources":{"limits":{"cpu":"2"}}}]}}
            """);

        // The limit's request comes from the pod defaults (as upstream's decoding gives it), the other from the LimitRange.
        Assert.Equal("""{"cpu":"2","memory":"32Mi"}""", pod["spec"]!["containers"]![0]!["resources"]!["requests"]!.ToJsonString());
    }

    [Fact]
    public async Task Patch_ObjectsStoredWithoutDefaults_AreUpdatableAndGainThem()
    {
        var ns = await CreateNamespaceAsync();
        const string spec = """{"restartPolicy":"Never","volumes":[{"name":"config","configMap":{"name":"c"}}],"containers":[{"name":"c","image":"busybox:1.36","livenessProbe":{"exec":{"command":["true"]}}}]}""";
        // Written as a server without today's defaults wrote them.
        await server.Store.CreateAsync($"/registry/pods/{ns}/old", System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"old","namespace":"{{{ns}}}","uid":"{{{Guid.NewGuid()}}}"},"spec":{{{spec}}},"status":{"phase":"Pending"}}"""), CancellationToken.None);
        await server.Store.CreateAsync($"/registry/jobs.batch/{ns}/old", System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"old","namespace":"{{{ns}}}","uid":"{{{Guid.NewGuid()}}}","generation":1},"spec":{"selector":{"matchLabels":{"app":"x"}},"manualSelector":true,"template":{"metadata":{"labels":{"app":"x"}},"spec":{{{spec}}} } },"status":{}}"""), CancellationToken.None);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((await server.GetAsync($"/apis/batch/v1/namespaces/{ns}/jobs/old")).Status != HttpStatusCode.OK || (await server.GetAsync($"/api/v1/namespaces/{ns}/pods/old")).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the stored objects never became visible");
            await Task.Delay(50);
        }

        var (podPatched, pod) = await server.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/pods/old", """{"metadata":{"labels":{"tier":"a"}}}""", "application/merge-patch+json");
        var (jobPatched, job) = await server.SendAsync(HttpMethod.Patch, $"/apis/batch/v1/namespaces/{ns}/jobs/old", """{"metadata":{"labels":{"tier":"a"}}}""", "application/merge-patch+json");

        Assert.True(podPatched == HttpStatusCode.OK, pod?.ToJsonString());
        Assert.Equal(420, (int?)Volume(pod!["spec"]!, "config")["configMap"]!["defaultMode"]);
        Assert.True(jobPatched == HttpStatusCode.OK, job?.ToJsonString());
        Assert.Equal(10, (int?)Container(job!["spec"]!["template"]!["spec"]!, "c")["livenessProbe"]!["periodSeconds"]);
        Assert.Equal(1, (int?)job["metadata"]!["generation"]);
    }

    public static TheoryData<string, string, string> TemplateKinds => new()
    {
        { "/api/v1/namespaces/{0}/podtemplates", "template", """{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"w"},"template":{1}}""" },
        { "/api/v1/namespaces/{0}/replicationcontrollers", "spec.template", """{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"w"},"spec":{"template":{1}}}""" },
        { "/apis/apps/v1/namespaces/{0}/replicasets", "spec.template", """{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"w"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{1}}}""" },
        { "/apis/apps/v1/namespaces/{0}/statefulsets", "spec.template", """{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"w"},"spec":{"serviceName":"w","selector":{"matchLabels":{"app":"x"}},"template":{1}}}""" },
        { "/apis/apps/v1/namespaces/{0}/daemonsets", "spec.template", """{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"w"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{1}}}""" },
        { "/apis/batch/v1/namespaces/{0}/jobs", "spec.template", """{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"w"},"spec":{"template":{1}}}""" },
        { "/apis/batch/v1/namespaces/{0}/cronjobs", "spec.jobTemplate.spec.template", """{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"w"},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{"template":{1}}}}}""" },
    };

    [Theory]
    [MemberData(nameof(TemplateKinds))]
    public async Task Create_KindWithPodTemplate_DefaultsItsPodSpec(string pathFormat, string templatePath, string bodyFormat)
    {
        var ns = await CreateNamespaceAsync();
        var restart = bodyFormat.Contains("batch/v1", StringComparison.Ordinal) ? "Never" : "Always";
        var template = Template.Replace("\"restartPolicy\":\"Always\"", $"\"restartPolicy\":\"{restart}\"", StringComparison.Ordinal);
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, ns);
        var stored = await CreateAndReadAsync(path, "w", bodyFormat.Replace("{1}", template, StringComparison.Ordinal));

        JsonNode node = stored;
        foreach (var part in (templatePath + ".spec").Split('.'))
        {
            node = node[part]!;
        }

        Assert.Equal(3600, (long?)Volume(node, "projected")["projected"]!["sources"]![0]!["serviceAccountToken"]!["expirationSeconds"]);
        Assert.Equal(420, (int?)Volume(node, "secret")["secret"]!["defaultMode"]);
        Assert.Equal("v1", (string?)Container(node, "web")["env"]![0]!["valueFrom"]!["fieldRef"]!["apiVersion"]);
        Assert.Equal(3, (int?)Container(node, "web")["livenessProbe"]!["failureThreshold"]);
        Assert.Equal("{}", Volume(node, "scratch")["emptyDir"]!.ToJsonString());
        Assert.Null(Container(node, "web")["resources"]!["requests"]);
    }

    [Fact]
    public async Task Create_ReplicationControllerWithoutLabels_TakesTemplateLabels()
    {
        var ns = await CreateNamespaceAsync();
        var rc = await CreateAndReadAsync($"/api/v1/namespaces/{ns}/replicationcontrollers", "w", $$$"""
            {"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"w"},"spec":{"template":{{{Template}}}}}
            """);

        Assert.Equal("""{"app":"x"}""", rc["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""{"app":"x"}""", rc["spec"]!["selector"]!.ToJsonString());
    }
}
