using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.Tests;

public sealed class JsonRoundTripTests
{
    private const string PodJson = """
        {
          "apiVersion": "v1",
          "kind": "Pod",
          "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": { "app": "web" },
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "ownerReferences": [
              { "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "0f3c", "controller": true }
            ],
            "managedFields": [
              { "manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": { "f:spec": { "f:containers": {} } } }
            ]
          },
          "spec": {
            "containers": [
              {
                "name": "nginx",
                "image": "nginx:1.27",
                "ports": [ { "containerPort": 80, "protocol": "TCP" } ],
                "resources": { "limits": { "cpu": "500m", "memory": "128Mi" } },
                "livenessProbe": { "httpGet": { "path": "/", "port": "http" }, "periodSeconds": 10 }
              }
            ],
            "terminationGracePeriodSeconds": 30
          },
          "status": { "phase": "Running", "startTime": "2024-05-01T10:00:05Z" }
        }
        """;

    [Fact]
    public void Pod_RoundTrip_KeepsEveryField()
    {
        var pod = JsonSerializer.Deserialize(PodJson, KubernetesJsonContext.Default.CoreV1Pod)!;

        Assert.Equal("web", pod.Metadata!.Name);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), pod.Metadata.CreationTimestamp);
        var container = Assert.Single(pod.Spec!.Containers!);
        Assert.Equal(80, container.Ports![0].ContainerPortValue);
        Assert.Equal(Quantity.FromMilli(500), container.Resources!.Limits!["cpu"]);
        Assert.Equal("http", container.LivenessProbe!.HttpGet!.Port!.Value.StringValue);
        Assert.True(container.LivenessProbe.HttpGet.Port.Value.IsString);

        var written = JsonSerializer.Serialize(pod, KubernetesJsonContext.Default.CoreV1Pod);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PodJson), JsonNode.Parse(written)), written);
    }

    [Fact]
    public void Deployment_IntOrStringPercentAndInteger_RoundTrip()
    {
        const string json = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
                     "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
                     "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}
            """;

        var deployment = JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.AppsV1Deployment)!;

        var rolling = deployment.Spec!.Strategy!.RollingUpdate!;
        Assert.Equal("25%", rolling.MaxSurge!.Value.StringValue);
        Assert.Equal(3, rolling.MaxSurge.Value.GetScaledValueFromIntOrPercent(10, roundUp: true));
        Assert.False(rolling.MaxUnavailable!.Value.IsString);
        Assert.Equal(1, rolling.MaxUnavailable.Value.IntValue);
        var written = JsonSerializer.Serialize(deployment, KubernetesJsonContext.Default.AppsV1Deployment);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(written)), written);
    }

    [Fact]
    public void Serialize_UnsetProperties_AreOmittedAndTypeMetaComesFirst()
    {
        var pod = new Pod { ApiVersion = Pod.KubeApiVersion, Kind = Pod.KubeKind, Metadata = new() { Name = "p" } };

        var written = JsonSerializer.Serialize(pod, KubernetesJsonContext.Default.CoreV1Pod);

        Assert.Equal("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}""", written);
    }

    [Fact]
    public void Deserialize_NumberWrittenAsString_Fails()
    {
        const string json = """{"spec":{"replicas":"3"}}""";

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.AppsV1Deployment));
    }

    [Fact]
    public void Deserialize_QuantityWrittenAsNumber_ReadsIt()
    {
        const string json = """{"limits":{"cpu":1,"memory":1.5}}""";

        var requirements = JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.CoreV1ResourceRequirements)!;

        Assert.Equal("1", requirements.Limits!["cpu"].ToString());
        Assert.Equal("1500m", requirements.Limits["memory"].ToString());
        Assert.Equal("""{"limits":{"cpu":"1","memory":"1500m"}}""", JsonSerializer.Serialize(requirements, KubernetesJsonContext.Default.CoreV1ResourceRequirements));
    }

    [Fact]
    public void Deserialize_TimeWithOffset_IsWrittenInUtc()
    {
        const string json = """{"metadata":{"creationTimestamp":"2024-05-01T12:00:00.5+02:00"}}""";

        var pod = JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.CoreV1Pod)!;

        Assert.Equal("""{"metadata":{"creationTimestamp":"2024-05-01T10:00:00Z"}}""", JsonSerializer.Serialize(pod, KubernetesJsonContext.Default.CoreV1Pod));
    }

    [Fact]
    public void Event_MicroTime_IsWrittenToTheMicrosecond()
    {
        var ev = new Kubesharp.Api.Events.V1.Event { EventTime = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567) };

        var written = JsonSerializer.Serialize(ev, KubernetesJsonContext.Default.EventsV1Event);

        Assert.Equal("""{"eventTime":"2024-05-01T10:00:00.123456Z"}""", written);
    }

    [Fact]
    public void PodDisruptionBudgetStatus_TimeMap_RoundTrips()
    {
        const string json = """{"currentHealthy":1,"desiredHealthy":1,"disruptedPods":{"web-0":"2024-05-01T10:00:00Z"},"disruptionsAllowed":0,"expectedPods":1}""";

        var status = JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.PolicyV1PodDisruptionBudgetStatus)!;

        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), status.DisruptedPods!["web-0"]);
        Assert.Equal(json, JsonSerializer.Serialize(status, KubernetesJsonContext.Default.PolicyV1PodDisruptionBudgetStatus));
    }

    [Fact]
    public void CustomResourceDefinition_RecursiveSchema_RoundTrips()
    {
        const string json = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},
             "spec":{"group":"example.com","names":{"kind":"Widget","plural":"widgets"},"scope":"Namespaced",
              "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
                "properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true,
                  "properties":{"size":{"type":"integer","default":3,"minimum":1},
                                "tags":{"type":"array","items":{"type":"string"}},
                                "labels":{"type":"object","additionalProperties":{"type":"string"}}}}}}}}]}}
            """;

        var crd = JsonSerializer.Deserialize(json, KubernetesJsonContext.Default.ApiExtensionsV1CustomResourceDefinition)!;

        var spec = crd.Spec!.Versions![0].Schema!.OpenAPIV3Schema!.Properties!["spec"];
        Assert.True(spec.XKubernetesPreserveUnknownFields);
        Assert.Equal(1.0, spec.Properties!["size"].Minimum);
        var written = JsonSerializer.Serialize(crd, KubernetesJsonContext.Default.ApiExtensionsV1CustomResourceDefinition);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(written)), written);
    }

    [Fact]
    public void Default_UnknownField_IsDropped()
    {
        var pod = JsonSerializer.Deserialize("""{"metadata":{"name":"p"},"spec":{"bogus":1}}""", KubernetesJsonContext.Default.CoreV1Pod)!;

        Assert.Equal("""{"metadata":{"name":"p"},"spec":{}}""", JsonSerializer.Serialize(pod, KubernetesJsonContext.Default.CoreV1Pod));
    }

    [Fact]
    public void Strict_UnknownField_Throws()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"spec":{"bogus":1}}""", KubernetesJsonContext.Strict.CoreV1Pod));
    }

    [Fact]
    public void Default_PropertyNameInOtherCase_IsNotMatched()
    {
        var pod = JsonSerializer.Deserialize("""{"Metadata":{"name":"p"}}""", KubernetesJsonContext.Default.CoreV1Pod)!;

        Assert.Null(pod.Metadata);
    }

    [Fact]
    public void Kinds_StaticTypeMeta_MatchesTheSpec()
    {
        Assert.Equal(new GroupVersionKind("apps", "v1", "Deployment"), KindOf<Deployment>());
        Assert.Equal(new GroupVersionKind("", "v1", "PodList"), KindOf<PodList>());
        Assert.Equal("autoscaling/v2", Kubesharp.Api.Autoscaling.V2.HorizontalPodAutoscaler.KubeApiVersion);
        Assert.Equal("autoscaling/v1", Kubesharp.Api.Autoscaling.V1.HorizontalPodAutoscaler.KubeApiVersion);
    }

    [Fact]
    public void PodList_AsUntypedList_ExposesItems()
    {
        IKubernetesList list = new PodList { Items = [new Pod { Metadata = new() { Name = "a" } }] };

        Assert.Equal("a", Assert.Single(list.Items!).Metadata!.Name);
    }

    [Fact]
    public void AllRecords_SerializeEmpty_AsEmptyObject()
    {
        var context = KubernetesJsonContext.Default;
        var properties = typeof(KubernetesJsonContext).GetProperties()
            .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(System.Text.Json.Serialization.Metadata.JsonTypeInfo<>))
            .Select(p => p.GetValue(context))
            .Cast<System.Text.Json.Serialization.Metadata.JsonTypeInfo>()
            .Where(t => t.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object && t.Type.Namespace!.StartsWith("Kubesharp.", StringComparison.Ordinal))
            .ToList();

        Assert.True(properties.Count > 650, $"{properties.Count} record types");
        foreach (var typeInfo in properties)
        {
            var instance = Activator.CreateInstance(typeInfo.Type)!;
            Assert.Equal("{}", JsonSerializer.Serialize(instance, typeInfo));
        }
    }

    private static GroupVersionKind KindOf<T>()
        where T : IKubernetesKind => T.GroupVersionKind;
}
