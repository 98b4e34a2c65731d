using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// How one resource is defaulted, validated and split between spec and status. The base handles every resource
/// generically; kinds with upstream-specific behaviour override the hooks.
/// </summary>
internal partial class ResourceStrategy
{
    public ResourceStrategy(ApiResource resource)
    {
        Resource = resource;
        StatusShape = Kubesharp.Api.StatusShape.For(resource.Group, resource.Kind);
    }

    public ApiResource Resource { get; }

    public bool HasStatus => Resource.Subresources.ContainsKey("status");

    /// <summary>Upstream's JSON shape of the kind's status, which every stored status of a workload is given.</summary>
    private Kubesharp.Api.StatusShape? StatusShape { get; }

    /// <summary>Kinds whose spec changes bump metadata.generation.</summary>
    public virtual bool TracksGeneration => HasStatus;

    /// <summary>Names must be DNS-1123 labels rather than subdomains (namespaces, services).</summary>
    protected virtual NameRule NameRule => NameRule.Subdomain;

    public static ResourceStrategy For(ApiResource resource, RegistryContext context) => resource.GroupResource switch
    {
        "pods" => new PodStrategy(resource, context),
        "podtemplates" => new PodTemplateStrategy(resource),
        "services" => new ServiceStrategy(resource, context),
        "namespaces" => new NamespaceStrategy(resource),
        "nodes" => new NodeStrategy(resource),
        "deployments.apps" or "replicasets.apps" or "statefulsets.apps" or "daemonsets.apps" or "replicationcontrollers" => new WorkloadStrategy(resource),
        "jobs.batch" => new JobStrategy(resource),
        "cronjobs.batch" => new CronJobStrategy(resource),
        "horizontalpodautoscalers.autoscaling" => new HorizontalPodAutoscalerStrategy(resource),
        "configmaps" or "secrets" => new ConfigStrategy(resource),
        "events" or "events.events.k8s.io" => new EventStrategy(resource),
        "roles.rbac.authorization.k8s.io" or "clusterroles.rbac.authorization.k8s.io" or "rolebindings.rbac.authorization.k8s.io" or "clusterrolebindings.rbac.authorization.k8s.io" => new RbacStrategy(resource),
        "flowschemas.flowcontrol.apiserver.k8s.io" => new FlowSchemaStrategy(resource),
        "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io" => new PriorityLevelConfigurationStrategy(resource),
        "customresourcedefinitions.apiextensions.k8s.io" => new CustomResourceDefinitionStrategy(resource, context),
        "mutatingwebhookconfigurations.admissionregistration.k8s.io" or "validatingwebhookconfigurations.admissionregistration.k8s.io" => new WebhookConfigurationStrategy(resource),
        "validatingadmissionpolicies.admissionregistration.k8s.io" or "validatingadmissionpolicybindings.admissionregistration.k8s.io" or
            "mutatingadmissionpolicies.admissionregistration.k8s.io" or "mutatingadmissionpolicybindings.admissionregistration.k8s.io" => new AdmissionPolicyStrategy(resource),
        "persistentvolumeclaims" => new PersistentVolumeClaimStrategy(resource, context),
        "persistentvolumes" => new PersistentVolumeStrategy(resource, context),
        "storageclasses.storage.k8s.io" => new StorageClassStrategy(resource),
        "certificatesigningrequests.certificates.k8s.io" => new CertificateSigningRequestStrategy(resource, context.TimeProvider),
        "ingresses.networking.k8s.io" => new IngressStrategy(resource),
        "ingressclasses.networking.k8s.io" => new IngressClassStrategy(resource),
        "networkpolicies.networking.k8s.io" => new NetworkPolicyStrategy(resource),
        "apiservices.apiregistration.k8s.io" => new ApiServiceStrategy(resource),
        _ => new ResourceStrategy(resource),
    };

    /// <summary>
    /// The scheme defaults a kind applies as an object is read, from a request before admission (so that admission
    /// plugins see them as upstream's do: LimitRanger sees a Pod's requests taken from its limits) and from storage
    /// before an update (so that an object stored before a default existed compares equal to itself).
    /// </summary>
    public virtual void ApplySchemeDefaults(JsonObject obj)
    {
    }

    /// <summary>Defaults a new object; the status of resources with a status subresource starts empty.</summary>
    public virtual void PrepareForCreate(JsonObject obj)
    {
        if (HasStatus && Resource.GroupResource != "nodes")
        {
            obj.Remove("status");
        }

        if (StatusShape is { } shape)
        {
            obj["status"] = shape.Initial();
        }
    }

    /// <summary>Defaults a new object a client sends; <paramref name="requester"/> is null for the server's own writes.</summary>
    public virtual void PrepareForCreate(JsonObject obj, Security.UserInfo? requester) => PrepareForCreate(obj);

    /// <summary>
    /// For an update through a subresource of the kind's own (not status, scale or finalize): the object to store, or
    /// null when the kind does not know the subresource and the update is handled as one of the whole object.
    /// </summary>
    public virtual JsonObject? PrepareForSubresourceUpdate(string subresource, JsonObject updated, JsonObject old) => null;

    /// <summary>Carries over what a main-resource update must not change.</summary>
    public virtual void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        if (HasStatus)
        {
            CopyField(old, updated, "status");
        }

        Shape(updated);
    }

    /// <summary>For a status update: everything but status comes from the old object.</summary>
    public virtual JsonObject PrepareForStatusUpdate(JsonObject updated, JsonObject old)
    {
        var result = old.DeepClone().AsObject();
        CopyField(updated, result, "status");
        Shape(result);
        return result;
    }

    private void Shape(JsonObject obj)
    {
        if (StatusShape is { } shape)
        {
            shape.Apply(Ensure(obj, "status"));
        }
    }

    /// <summary>Before a delete: a kind may add finalizers that hold the object (and mark it) until work is done.</summary>
    public virtual void PrepareForDelete(JsonObject obj, List<string> finalizers)
    {
    }

    /// <summary>
    /// Validates a status update, whose object is the stored one with a new status (<see cref="PrepareForStatusUpdate"/>):
    /// by default as any update.
    /// </summary>
    public virtual void ValidateStatusUpdate(JsonObject obj, JsonObject old, List<StatusCause> causes) => Validate(obj, old, causes);

    public virtual void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        var meta = obj["metadata"] as JsonObject;
        var name = (string?)meta?["name"] ?? string.Empty;
        if (name.Length > 0 && old is null)
        {
            var problem = NameRule switch
            {
                NameRule.Label => CheckLabel(name),
                NameRule.Label1035 => CheckLabel1035(name),
                NameRule.Path => name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('%', StringComparison.Ordinal) ? $"may not contain '/' or '%' or be '.' or '..'" : null,
                _ => CheckSubdomain(name),
            };
            if (problem is not null)
            {
                causes.Add(Invalid("metadata.name", name, problem));
            }
        }

        if (meta?["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                if (CheckQualifiedName(key) is { } keyProblem)
                {
                    causes.Add(Invalid("metadata.labels", key, keyProblem));
                }

                var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : null;
                if (text is null || (text.Length > 0 && !LabelValuePattern().IsMatch(text)) || text.Length > 63)
                {
                    causes.Add(Invalid("metadata.labels", text ?? value?.ToJsonString() ?? "null",
                        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
                }
            }
        }

        if (meta?["annotations"] is JsonObject annotations)
        {
            foreach (var (key, _) in annotations)
            {
                if (CheckQualifiedName(key) is { } keyProblem)
                {
                    causes.Add(Invalid("metadata.annotations", key, keyProblem));
                }
            }
        }
    }

    protected static void CopyField(JsonObject from, JsonObject to, string field)
    {
        if (from[field] is { } value)
        {
            to[field] = value.DeepClone();
        }
        else
        {
            to.Remove(field);
        }
    }

    internal static JsonObject Ensure(JsonObject parent, string field)
    {
        if (parent[field] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[field] = created;
        return created;
    }

    internal static void Default(JsonObject obj, string field, JsonNode value)
    {
        if (obj[field] is null)
        {
            obj[field] = value;
        }
    }

    public static StatusCause Required(string field, string? detail = null) =>
        new("FieldValueRequired", detail is null ? "Required value" : $"Required value: {detail}", field);

    public static StatusCause Invalid(string field, string value, string detail) =>
        new("FieldValueInvalid", $"Invalid value: \"{value}\": {detail}", field);

    public static StatusCause Unsupported(string field, string value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", $"Unsupported value: \"{value}\": supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}", field);

    public static StatusCause Forbidden(string field, string detail) => new("FieldValueForbidden", $"Forbidden: {detail}", field);

    public static string? CheckSubdomain(string value)
    {
        if (value.Length > 253)
        {
            return "must be no more than 253 characters";
        }

        return SubdomainPattern().IsMatch(value) ? null
            : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    }

    public static string? CheckLabel(string value)
    {
        if (value.Length > 63)
        {
            return "must be no more than 63 characters";
        }

        return LabelPattern().IsMatch(value) ? null
            : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }

    public static string? CheckLabel1035(string value)
    {
        if (value.Length > 63)
        {
            return "must be no more than 63 characters";
        }

        return Label1035Pattern().IsMatch(value) ? null
            : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    }

    public static string? CheckQualifiedName(string key)
    {
        var slash = key.LastIndexOf('/');
        var name = slash >= 0 ? key[(slash + 1)..] : key;
        if (slash >= 0 && CheckSubdomain(key[..slash]) is { } prefixProblem)
        {
            return "prefix part " + prefixProblem;
        }

        if (name.Length == 0 || name.Length > 63 || !QualifiedNamePattern().IsMatch(name))
        {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex SubdomainPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label1035Pattern();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePattern();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValuePattern();
}

internal enum NameRule
{
    Subdomain,
    Label,
    Label1035,
    Path,
}
