using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>IngressClasses: a required, immutable, domain-prefixed controller; parameters scoped to the cluster by default.</summary>
internal sealed class IngressClassStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        DefaultScope(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        DefaultScope(updated);
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var controller = (string?)obj["spec"]?["controller"];
        if (string.IsNullOrEmpty(controller))
        {
            causes.Add(Required("spec.controller"));
        }
        else if (controller.Length > 250)
        {
            causes.Add(new StatusCause("FieldValueTooLong", $"Too long: may not be more than 250 bytes", "spec.controller"));
        }
        else if (controller.IndexOf('/', StringComparison.Ordinal) is var slash && (slash <= 0 || CheckSubdomain(controller[..slash]) is not null))
        {
            causes.Add(Invalid("spec.controller", controller, "must be a domain-prefixed path (such as \"acme.io/foo\")"));
        }

        if (old is not null && !JsonNode.DeepEquals(obj["spec"]?["controller"], old["spec"]?["controller"]))
        {
            causes.Add(Invalid("spec.controller", controller ?? string.Empty, "field is immutable"));
        }

        if (obj["spec"]?["parameters"] is JsonObject parameters)
        {
            if (string.IsNullOrEmpty((string?)parameters["kind"]))
            {
                causes.Add(Required("spec.parameters.kind"));
            }

            if (string.IsNullOrEmpty((string?)parameters["name"]))
            {
                causes.Add(Required("spec.parameters.name"));
            }

            var scope = (string?)parameters["scope"];
            var ns = (string?)parameters["namespace"];
            if (scope is not ("Cluster" or "Namespace"))
            {
                causes.Add(Unsupported("spec.parameters.scope", scope ?? string.Empty, ["Cluster", "Namespace"]));
            }
            else if (scope == "Namespace" && string.IsNullOrEmpty(ns))
            {
                causes.Add(Required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"));
            }
            else if (scope == "Cluster" && !string.IsNullOrEmpty(ns))
            {
                causes.Add(Forbidden("spec.parameters.namespace", "`parameters.scope` is set to 'Cluster'"));
            }
        }
    }

    private static void DefaultScope(JsonObject obj)
    {
        if (obj["spec"]?["parameters"] is JsonObject parameters)
        {
            Default(parameters, "scope", "Cluster");
        }
    }
}
