using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// Ingresses (networking.k8s.io/v1) validated as upstream: a default backend or rules, DNS hosts (a leading
/// wildcard label allowed, never an IP), absolute paths with a pathType, and exactly one kind of backend.
/// </summary>
internal sealed class IngressStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private const string ClassAnnotation = "kubernetes.io/ingress.class";

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["spec"] is not JsonObject spec)
        {
            causes.Add(Invalid("spec", string.Empty, "either `defaultBackend` or `rules` must be specified"));
            return;
        }

        var rules = spec["rules"] as JsonArray;
        if (spec["defaultBackend"] is JsonObject fallback)
        {
            ValidateBackend(fallback, "spec.defaultBackend", causes);
        }
        else if (rules is null || rules.Count == 0)
        {
            causes.Add(Invalid("spec", string.Empty, "either `defaultBackend` or `rules` must be specified"));
        }

        for (var i = 0; rules is not null && i < rules.Count; i++)
        {
            ValidateRule(rules[i] as JsonObject, $"spec.rules[{i}]", causes);
        }

        var tls = spec["tls"] as JsonArray;
        for (var i = 0; tls is not null && i < tls.Count; i++)
        {
            var entry = tls[i] as JsonObject;
            var hosts = entry?["hosts"] as JsonArray;
            for (var h = 0; hosts is not null && h < hosts.Count; h++)
            {
                var host = (string?)hosts[h] ?? string.Empty;
                if (CheckHost(host) is { } problem)
                {
                    causes.Add(Invalid($"spec.tls[{i}].hosts[{h}]", host, problem));
                }
            }

            if ((string?)entry?["secretName"] is { Length: > 0 } secret && CheckSubdomain(secret) is { } secretProblem)
            {
                causes.Add(Invalid($"spec.tls[{i}].secretName", secret, secretProblem));
            }
        }

        var className = (string?)spec["ingressClassName"];
        if (className is not null && CheckSubdomain(className) is { } classProblem)
        {
            causes.Add(Invalid("spec.ingressClassName", className, classProblem));
        }

        if (old is null && className is not null && obj["metadata"]?["annotations"]?[ClassAnnotation] is JsonValue annotation)
        {
            causes.Add(Invalid($"annotations.{ClassAnnotation}", (string?)annotation ?? string.Empty, "can not be set when the class field is also set"));
        }
    }

    private static void ValidateRule(JsonObject? rule, string path, List<StatusCause> causes)
    {
        if ((string?)rule?["host"] is { Length: > 0 } host && CheckHost(host) is { } problem)
        {
            causes.Add(Invalid(path + ".host", host, problem));
        }

        if (rule?["http"] is not JsonObject http)
        {
            return;
        }

        if (http["paths"] is not JsonArray { Count: > 0 } paths)
        {
            causes.Add(Required(path + ".http.paths"));
            return;
        }

        for (var i = 0; i < paths.Count; i++)
        {
            var at = $"{path}.http.paths[{i}]";
            var entry = paths[i] as JsonObject;
            var text = (string?)entry?["path"] ?? string.Empty;
            switch ((string?)entry?["pathType"])
            {
                case null:
                    causes.Add(Required(at + ".pathType", "pathType must be specified"));
                    break;
                case "Exact" or "Prefix":
                    if (!text.StartsWith('/'))
                    {
                        causes.Add(Invalid(at + ".path", text, "must be an absolute path"));
                    }
                    else if (InvalidSequence(text) is { } sequence)
                    {
                        causes.Add(Invalid(at + ".path", text, $"must not contain '{sequence}'"));
                    }

                    break;
                case "ImplementationSpecific":
                    if (text.Length > 0 && !text.StartsWith('/'))
                    {
                        causes.Add(Invalid(at + ".path", text, "must be an absolute path"));
                    }

                    break;
                case var other:
                    causes.Add(Unsupported(at + ".pathType", other, ["Exact", "ImplementationSpecific", "Prefix"]));
                    break;
            }

            if (entry?["backend"] is JsonObject backend)
            {
                ValidateBackend(backend, at + ".backend", causes);
            }
            else
            {
                causes.Add(Invalid(at + ".backend", string.Empty, "resource or service backend is required"));
            }
        }
    }

    private static void ValidateBackend(JsonObject backend, string path, List<StatusCause> causes)
    {
        var service = backend["service"] as JsonObject;
        var resource = backend["resource"] as JsonObject;
        if (service is not null && resource is not null)
        {
            causes.Add(Invalid(path, string.Empty, "cannot set both resource and service backends"));
            return;
        }

        if (resource is not null)
        {
            if (string.IsNullOrEmpty((string?)resource["kind"]))
            {
                causes.Add(Required(path + ".resource.kind"));
            }

            if (string.IsNullOrEmpty((string?)resource["name"]))
            {
                causes.Add(Required(path + ".resource.name"));
            }

            return;
        }

        if (service is null)
        {
            causes.Add(Invalid(path, string.Empty, "resource or service backend is required"));
            return;
        }

        var name = (string?)service["name"];
        if (string.IsNullOrEmpty(name))
        {
            causes.Add(Required(path + ".service.name"));
        }
        else if (CheckLabel1035(name) is { } nameProblem)
        {
            causes.Add(Invalid(path + ".service.name", name, nameProblem));
        }

        var portName = (string?)service["port"]?["name"];
        var number = service["port"]?["number"] is JsonValue n && n.TryGetValue<int>(out var value) ? value : 0;
        if (!string.IsNullOrEmpty(portName) && number != 0)
        {
            causes.Add(Invalid(path, string.Empty, "cannot set both port name & port number"));
        }
        else if (!string.IsNullOrEmpty(portName))
        {
            if (portName.Length > 15 || !portName.Any(char.IsAsciiLetter) || CheckLabel(portName) is not null || portName.Contains("--", StringComparison.Ordinal))
            {
                causes.Add(Invalid(path + ".service.port.name", portName, "must be no more than 15 characters, contain only lowercase alphanumerics and '-', start and end with an alphanumeric, contain a letter and no '--'"));
            }
        }
        else if (number != 0)
        {
            if (number is < 1 or > 65535)
            {
                causes.Add(Invalid(path + ".service.port.number", number.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be between 1 and 65535, inclusive"));
            }
        }
        else
        {
            causes.Add(Required(path, "port name or number is required"));
        }
    }

    /// <summary>A rule or TLS host: a DNS subdomain whose first label may be '*', never an IP address.</summary>
    private static string? CheckHost(string host)
    {
        if (IPAddress.TryParse(host, out _))
        {
            return "must be a DNS name, not an IP address";
        }

        if (host.StartsWith("*.", StringComparison.Ordinal))
        {
            return CheckSubdomain(host[2..]) is null ? null
                : "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        }

        return CheckSubdomain(host);
    }

    private static string? InvalidSequence(string path)
    {
        foreach (var sequence in (string[])["//", "/./", "/../", "%2f", "%2F"])
        {
            if (path.Contains(sequence, StringComparison.Ordinal))
            {
                return sequence;
            }
        }

        foreach (var suffix in (string[])["/..", "/."])
        {
            if (path.EndsWith(suffix, StringComparison.Ordinal))
            {
                return suffix;
            }
        }

        return null;
    }
}
