using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Certificates;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// CertificateSigningRequests as upstream stores them: the requester's identity is written into the spec on create,
/// the spec never changes afterwards, the <c>approval</c> subresource writes only the Approved and Denied conditions,
/// the <c>status</c> subresource the rest of the status (a certificate once, never changed), and the request must be
/// a PEM certificate request with a signer and known usages.
/// </summary>
internal sealed class CertificateSigningRequestStrategy(ApiResource resource, TimeProvider time) : ResourceStrategy(resource)
{
    public const string ApprovalSubresource = "approval";

    public override bool TracksGeneration => false;

    public override void PrepareForCreate(JsonObject obj, UserInfo? requester)
    {
        base.PrepareForCreate(obj, requester);
        var spec = obj["spec"] as JsonObject;
        if (spec is null || requester is null)
        {
            return;
        }

        // Who asked is what the signer and approvers judge by; the client cannot claim someone else.
        spec["username"] = requester.Name;
        spec.Remove("uid");
        if (requester.Uid.Length > 0)
        {
            spec["uid"] = requester.Uid;
        }

        spec["groups"] = new JsonArray([.. requester.Groups.Select(g => (JsonNode)JsonValue.Create(g)!)]);
        spec.Remove("extra");
        if (requester.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (key, values) in requester.Extra)
            {
                extra[key] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
            }

            spec["extra"] = extra;
        }
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        // An update of the object itself changes only metadata.
        base.PrepareForUpdate(updated, old);
        CopyField(old, updated, "spec");
    }

    public override JsonObject PrepareForStatusUpdate(JsonObject updated, JsonObject old)
    {
        var result = base.PrepareForStatusUpdate(updated, old);
        // The status subresource cannot approve or deny: the old Approved and Denied conditions stay as they were.
        var status = result["status"] as JsonObject;
        var kept = Conditions(status).Where(c => !IsApproval(c)).Select(c => c.DeepClone());
        var approvals = Conditions(old["status"] as JsonObject).Where(IsApproval).Select(c => c.DeepClone());
        SetConditions(result, [.. kept, .. approvals], old);
        return result;
    }

    public override JsonObject? PrepareForSubresourceUpdate(string subresource, JsonObject updated, JsonObject old)
    {
        if (subresource != ApprovalSubresource)
        {
            return null;
        }

        // Approval writes only the Approved and Denied conditions; the certificate and other conditions stay.
        var result = old.DeepClone().AsObject();
        CopyField(updated, result, "metadata");
        var approvals = Conditions(updated["status"] as JsonObject).Where(IsApproval).Select(c => c.DeepClone());
        var others = Conditions(old["status"] as JsonObject).Where(c => !IsApproval(c)).Select(c => c.DeepClone());
        SetConditions(result, [.. approvals, .. others], old);
        return result;
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        if (spec is null)
        {
            causes.Add(Required("spec"));
            return;
        }

        if (old is null)
        {
            ValidateSpec(spec, causes);
        }

        ValidateStatus(obj["status"] as JsonObject, old?["status"] as JsonObject, causes);
    }

    private static void ValidateSpec(JsonObject spec, List<StatusCause> causes)
    {
        var request = (string?)spec["request"];
        if (string.IsNullOrEmpty(request))
        {
            causes.Add(Required("spec.request"));
        }
        else if (ParseRequestProblem(request) is { } problem)
        {
            causes.Add(Invalid("spec.request", "<request>", problem));
        }

        var signer = (string?)spec["signerName"];
        if (string.IsNullOrEmpty(signer))
        {
            causes.Add(Required("spec.signerName"));
        }
        else if (SignerNameProblem(signer) is { } signerProblem)
        {
            causes.Add(Invalid("spec.signerName", signer, signerProblem));
        }

        if (spec["expirationSeconds"] is JsonValue seconds && seconds.TryGetValue<long>(out var expiration) && expiration < CertificateSigners.MinExpirationSeconds)
        {
            causes.Add(Invalid("spec.expirationSeconds", expiration.ToString(CultureInfo.InvariantCulture), "may not specify a duration less than 600 seconds (10 minutes)"));
        }

        var usages = spec["usages"] as JsonArray;
        if (usages is null || usages.Count == 0)
        {
            causes.Add(Required("spec.usages"));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < usages.Count; i++)
        {
            var usage = (string?)usages[i] ?? string.Empty;
            var field = $"spec.usages[{i}]";
            if (!CertificateSigners.KnownUsages.Contains(usage))
            {
                causes.Add(Unsupported(field, usage, CertificateSigners.KnownUsages));
            }
            else if (!seen.Add(usage))
            {
                causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{usage}\"", field));
            }
        }
    }

    private static void ValidateStatus(JsonObject? status, JsonObject? oldStatus, List<StatusCause> causes)
    {
        var conditions = Conditions(status).ToList();
        var types = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < conditions.Count; i++)
        {
            var condition = conditions[i];
            var field = $"status.conditions[{i}]";
            var type = (string?)condition["type"];
            if (string.IsNullOrEmpty(type))
            {
                causes.Add(Required(field + ".type"));
                continue;
            }

            var conditionStatus = (string?)condition["status"] ?? string.Empty;
            if (type is CertificateSigners.Approved or CertificateSigners.Denied or CertificateSigners.Failed)
            {
                if (!types.Add(type))
                {
                    causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{type}\"", field + ".type"));
                }

                if (conditionStatus != "True")
                {
                    causes.Add(Unsupported(field + ".status", conditionStatus, ["True"]));
                }
            }
            else if (conditionStatus is not ("True" or "False" or "Unknown"))
            {
                causes.Add(Unsupported(field + ".status", conditionStatus, ["False", "True", "Unknown"]));
            }
        }

        if (types.Contains(CertificateSigners.Approved) && types.Contains(CertificateSigners.Denied))
        {
            causes.Add(Invalid("status.conditions", CertificateSigners.Denied, "Approved and Denied conditions are mutually exclusive"));
        }

        // Once approved or denied, a request stays so.
        foreach (var decided in Conditions(oldStatus).Where(IsApproval).Select(c => (string)c["type"]!))
        {
            if (!types.Contains(decided))
            {
                causes.Add(Forbidden("status.conditions", $"updates may not remove a condition of type \"{decided}\""));
            }
        }

        var certificate = (string?)status?["certificate"];
        var oldCertificate = (string?)oldStatus?["certificate"];
        if (!string.IsNullOrEmpty(oldCertificate) && certificate != oldCertificate)
        {
            causes.Add(Forbidden("status.certificate", "updates may not modify existing certificate content"));
        }
        else if (!string.IsNullOrEmpty(certificate) && certificate != oldCertificate && CertificateProblem(certificate) is { } problem)
        {
            causes.Add(Invalid("status.certificate", "<certificate data>", problem));
        }
    }

    private static string? ParseRequestProblem(string base64)
    {
        byte[] der;
        try
        {
            var pem = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var fields = PemEncoding.Find(pem);
            if (pem[fields.Label] != "CERTIFICATE REQUEST")
            {
                return "PEM block type must be CERTIFICATE REQUEST";
            }

            der = Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return "PEM block type must be CERTIFICATE REQUEST";
        }

        try
        {
            _ = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
            return null;
        }
        catch (CryptographicException e)
        {
            return e.Message;
        }
    }

    private static string? CertificateProblem(string base64)
    {
        string pem;
        try
        {
            pem = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return "must contain at least one CERTIFICATE PEM block";
        }

        var found = 0;
        var rest = pem.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label].ToString();
            if (label != "CERTIFICATE")
            {
                return $"only CERTIFICATE PEM blocks are allowed, found \"{label}\"";
            }

            try
            {
                using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(rest.Span[fields.Base64Data].ToString()));
            }
            catch (CryptographicException e)
            {
                return e.Message;
            }

            found++;
            rest = rest[fields.Location.End..];
        }

        return found == 0 ? "must contain at least one CERTIFICATE PEM block" : null;
    }

    /// <summary>A signer name is a domain-qualified path: <c>example.com/signer-name</c>.</summary>
    private static string? SignerNameProblem(string signer)
    {
        var slash = signer.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == signer.Length - 1)
        {
            return "must be a fully qualified domain and path of the form 'example.com/signer-name'";
        }

        if (CheckSubdomain(signer[..slash]) is { } domainProblem)
        {
            return domainProblem;
        }

        return signer.Length > 571 ? "must be no more than 571 characters" : null;
    }

    private static bool IsApproval(JsonNode condition) => (string?)condition["type"] is CertificateSigners.Approved or CertificateSigners.Denied;

    private static IEnumerable<JsonNode> Conditions(JsonObject? status) =>
        status?["conditions"] is JsonArray conditions ? conditions.Where(c => c is JsonObject).Select(c => c!) : [];

    /// <summary>Writes the conditions, stamping upstream's timestamps where the writer left them out.</summary>
    private void SetConditions(JsonObject obj, List<JsonNode> conditions, JsonObject old)
    {
        var status = Ensure(obj, "status");
        if (conditions.Count == 0)
        {
            status.Remove("conditions");
            if (status.Count == 0)
            {
                obj.Remove("status");
            }

            return;
        }

        var now = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var oldConditions = Conditions(old["status"] as JsonObject).ToList();
        foreach (var condition in conditions.OfType<JsonObject>())
        {
            if (string.IsNullOrEmpty((string?)condition["lastUpdateTime"]))
            {
                condition["lastUpdateTime"] = now;
            }

            if (string.IsNullOrEmpty((string?)condition["lastTransitionTime"]))
            {
                var previous = oldConditions.FirstOrDefault(c => (string?)c["type"] == (string?)condition["type"]);
                condition["lastTransitionTime"] = previous is not null && (string?)previous["status"] == (string?)condition["status"] && (string?)previous["lastTransitionTime"] is { Length: > 0 } since
                    ? since
                    : now;
            }
        }

        status["conditions"] = new JsonArray([.. conditions]);
    }
}
