using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Tests;

/// <summary>Hand-built schemas shaped like the real Pod and Deployment, with the real patch metadata.</summary>
internal static class TestSchemas
{
    public static readonly TypeSchema String = new() { Kind = SchemaKind.String };
    public static readonly TypeSchema Integer = new() { Kind = SchemaKind.Integer, Format = "int32" };
    public static readonly TypeSchema Boolean = new() { Kind = SchemaKind.Boolean };
    public static readonly TypeSchema IntOrString = new() { Kind = SchemaKind.IntOrString, Format = "int-or-string" };
    public static readonly TypeSchema StringMap = new() { Kind = SchemaKind.Map, Items = String };

    public static readonly TypeSchema ObjectMeta = Obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        F("name", String), F("namespace", String), F("generateName", String), F("uid", String),
        F("resourceVersion", String), F("generation", Integer), F("creationTimestamp", String),
        F("labels", StringMap), F("annotations", StringMap),
        F("finalizers", Arr(String), strategy: "merge", listType: "set"),
        F("ownerReferences", Arr(Obj("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
            F("apiVersion", String), F("kind", String), F("name", String), F("uid", String), F("controller", Boolean))),
            strategy: "merge", mergeKey: "uid", listType: "map", keys: ["uid"]),
        F("managedFields", Arr(new TypeSchema { Kind = SchemaKind.Any }), listType: "atomic"));

    public static readonly TypeSchema ContainerPort = Obj("io.k8s.api.core.v1.ContainerPort",
        F("name", String), F("containerPort", Integer), F("protocol", String), F("hostPort", Integer));

    public static readonly TypeSchema EnvVar = Obj("io.k8s.api.core.v1.EnvVar", F("name", String), F("value", String));

    public static readonly TypeSchema Container = Obj("io.k8s.api.core.v1.Container",
        F("name", String), F("image", String), F("imagePullPolicy", String),
        F("args", Arr(String), listType: "atomic"),
        F("command", Arr(String), listType: "atomic"),
        F("ports", Arr(ContainerPort), strategy: "merge", mergeKey: "containerPort", listType: "map", keys: ["containerPort", "protocol"]),
        F("env", Arr(EnvVar), strategy: "merge", mergeKey: "name", listType: "map", keys: ["name"]),
        F("resources", Obj("io.k8s.api.core.v1.ResourceRequirements", F("limits", new TypeSchema { Kind = SchemaKind.Map, Items = IntOrString }),
            F("requests", new TypeSchema { Kind = SchemaKind.Map, Items = IntOrString }))));

    public static readonly TypeSchema Volume = Obj("io.k8s.api.core.v1.Volume",
        F("name", String),
        F("emptyDir", Obj("io.k8s.api.core.v1.EmptyDirVolumeSource", F("medium", String))),
        F("configMap", Obj("io.k8s.api.core.v1.ConfigMapVolumeSource", F("name", String))),
        F("hostPath", Obj("io.k8s.api.core.v1.HostPathVolumeSource", F("path", String))));

    public static readonly TypeSchema Toleration = Obj("io.k8s.api.core.v1.Toleration",
        F("key", String), F("operator", String), F("value", String), F("effect", String));

    public static readonly TypeSchema PodSpec = Obj("io.k8s.api.core.v1.PodSpec",
        F("containers", Arr(Container), strategy: "merge", mergeKey: "name", listType: "map", keys: ["name"]),
        F("initContainers", Arr(Container), strategy: "merge", mergeKey: "name", listType: "map", keys: ["name"]),
        F("volumes", Arr(Volume), strategy: "merge,retainKeys", mergeKey: "name", listType: "map", keys: ["name"]),
        F("tolerations", Arr(Toleration), listType: "atomic"),
        F("nodeSelector", StringMap, mapType: "atomic"),
        F("nodeName", String), F("restartPolicy", String), F("hostNetwork", Boolean));

    public static readonly TypeSchema Pod = Obj("io.k8s.api.core.v1.Pod",
        F("apiVersion", String), F("kind", String), F("metadata", ObjectMeta), F("spec", PodSpec),
        F("status", Obj("io.k8s.api.core.v1.PodStatus", F("phase", String), F("podIP", String))));

    public static readonly TypeSchema LabelSelector = new()
    {
        Name = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        Kind = SchemaKind.Object,
        MapType = "atomic",
        Properties = new Dictionary<string, FieldSchema>
        {
            ["matchLabels"] = F("matchLabels", StringMap),
            ["matchExpressions"] = F("matchExpressions", Arr(Obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
                F("key", String), F("operator", String), F("values", Arr(String), listType: "atomic"))), listType: "atomic"),
        },
    };

    public static readonly TypeSchema Deployment = Obj("io.k8s.api.apps.v1.Deployment",
        F("apiVersion", String), F("kind", String), F("metadata", ObjectMeta),
        F("spec", Obj("io.k8s.api.apps.v1.DeploymentSpec",
            F("replicas", Integer), F("paused", Boolean),
            F("selector", LabelSelector),
            F("strategy", Obj("io.k8s.api.apps.v1.DeploymentStrategy", F("type", String),
                F("rollingUpdate", Obj("io.k8s.api.apps.v1.RollingUpdateDeployment", F("maxSurge", IntOrString), F("maxUnavailable", IntOrString)))),
                strategy: "retainKeys"),
            F("template", Obj("io.k8s.api.core.v1.PodTemplateSpec", F("metadata", ObjectMeta), F("spec", PodSpec))))),
        F("status", Obj("io.k8s.api.apps.v1.DeploymentStatus", F("replicas", Integer), F("readyReplicas", Integer))));

    public static TypeSchema Obj(string name, params FieldSchema[] fields) => new()
    {
        Name = name,
        Kind = SchemaKind.Object,
        Properties = fields.ToDictionary(f => f.Name),
    };

    public static TypeSchema Arr(TypeSchema items) => new() { Kind = SchemaKind.Array, Items = items };

    public static FieldSchema F(string name, TypeSchema type, string? strategy = null, string? mergeKey = null,
        string? listType = null, string[]? keys = null, string? mapType = null) => new()
    {
        Name = name,
        Type = type,
        PatchStrategy = strategy,
        PatchMergeKey = mergeKey,
        ListType = listType,
        ListMapKeys = keys ?? [],
        MapType = mapType,
    };
}
