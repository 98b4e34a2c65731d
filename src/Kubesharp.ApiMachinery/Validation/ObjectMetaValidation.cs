using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Validation;

/// <summary>Validation of the metadata every object carries, on the JSON form, with upstream's messages and paths.</summary>
public static class ObjectMetaValidation
{
    /// <summary>Upper bound of the summed length of all annotation keys and values (256 KiB).</summary>
    public const int TotalAnnotationSizeLimitBytes = 256 * 1024;

    public const string FieldImmutableMessage = "field is immutable";

    public const string NegativeMessage = "must be greater than or equal to 0";

    /// <summary>
    /// Validates <c>metadata</c> of an object being created: name or generateName, namespace presence,
    /// generation, labels, annotations, owner references and finalizers.
    /// </summary>
    public static List<FieldError> ValidateObjectMeta(JsonObject? metadata, bool namespaced, NameValidator nameValidator, FieldPath? path = null)
    {
        ArgumentNullException.ThrowIfNull(nameValidator);
        path ??= FieldPath.Root("metadata");
        metadata ??= [];
        var errors = new List<FieldError>();

        var generateName = GetString(metadata, "generateName");
        if (generateName.Length > 0)
        {
            errors.AddRange(nameValidator(generateName, true).Select(m => FieldError.Invalid(path.Child("generateName"), generateName, m)));
        }

        var name = GetString(metadata, "name");
        if (name.Length == 0)
        {
            errors.Add(FieldError.Required(path.Child("name"), "name or generateName is required"));
        }
        else
        {
            errors.AddRange(nameValidator(name, false).Select(m => FieldError.Invalid(path.Child("name"), name, m)));
        }

        var ns = GetString(metadata, "namespace");
        if (namespaced)
        {
            if (ns.Length == 0)
            {
                errors.Add(FieldError.Required(path.Child("namespace")));
            }
            else
            {
                errors.AddRange(NameValidation.Dns1123LabelName(ns, false).Select(m => FieldError.Invalid(path.Child("namespace"), ns, m)));
            }
        }
        else if (ns.Length > 0)
        {
            errors.Add(FieldError.Forbidden(path.Child("namespace"), "not allowed on this type"));
        }

        if (metadata["generation"] is JsonValue generation && generation.TryGetValue(out long g) && g < 0)
        {
            errors.Add(FieldError.Invalid(path.Child("generation"), g, NegativeMessage));
        }

        errors.AddRange(ValidateLabels(metadata["labels"] as JsonObject, path.Child("labels")));
        errors.AddRange(ValidateAnnotations(metadata["annotations"] as JsonObject, path.Child("annotations")));
        errors.AddRange(ValidateOwnerReferences(metadata["ownerReferences"] as JsonArray, path.Child("ownerReferences")));
        errors.AddRange(ValidateFinalizers(metadata["finalizers"] as JsonArray, path.Child("finalizers")));
        return errors;
    }

    /// <summary>
    /// Validates <c>metadata</c> of an update: everything <see cref="ValidateObjectMeta"/> checks, plus name,
    /// namespace, uid and creationTimestamp unchanged.
    /// </summary>
    public static List<FieldError> ValidateObjectMetaUpdate(JsonObject? metadata, JsonObject? oldMetadata, bool namespaced, NameValidator nameValidator, FieldPath? path = null)
    {
        path ??= FieldPath.Root("metadata");
        metadata ??= [];
        oldMetadata ??= [];
        var errors = ValidateObjectMeta(metadata, namespaced, nameValidator, path);
        foreach (var field in new[] { "name", "namespace", "uid", "creationTimestamp" })
        {
            var now = metadata[field];
            if (!JsonNode.DeepEquals(now, oldMetadata[field]))
            {
                errors.Add(FieldError.Invalid(path.Child(field), now is JsonValue v && v.TryGetValue(out string? s) ? s : now?.DeepClone(), FieldImmutableMessage));
            }
        }

        return errors;
    }

    /// <summary>Label keys must be qualified names and values valid label values; errors point at the labels map.</summary>
    public static List<FieldError> ValidateLabels(JsonObject? labels, FieldPath path)
    {
        var errors = new List<FieldError>();
        if (labels is null)
        {
            return errors;
        }

        foreach (var (key, node) in labels)
        {
            errors.AddRange(NameValidation.IsQualifiedName(key).Select(m => FieldError.Invalid(path, key, m)));
            if (node is JsonValue v && v.TryGetValue(out string? value))
            {
                errors.AddRange(NameValidation.IsValidLabelValue(value).Select(m => FieldError.Invalid(path, value, m)));
            }
            else if (node is not null)
            {
                errors.Add(FieldError.TypeInvalid(path.Key(key), node.DeepClone(), "must be a string"));
            }
        }

        return errors;
    }

    /// <summary>Labels held in a dictionary (e.g. selectors' matchLabels).</summary>
    public static List<FieldError> ValidateLabels(IReadOnlyDictionary<string, string>? labels, FieldPath path)
    {
        var errors = new List<FieldError>();
        if (labels is null)
        {
            return errors;
        }

        foreach (var (key, value) in labels)
        {
            errors.AddRange(NameValidation.IsQualifiedName(key).Select(m => FieldError.Invalid(path, key, m)));
            errors.AddRange(NameValidation.IsValidLabelValue(value).Select(m => FieldError.Invalid(path, value, m)));
        }

        return errors;
    }

    /// <summary>Annotation keys must be qualified names (case-insensitive) and all entries together at most 256 KiB.</summary>
    public static List<FieldError> ValidateAnnotations(JsonObject? annotations, FieldPath path)
    {
        var errors = new List<FieldError>();
        if (annotations is null)
        {
            return errors;
        }

        long total = 0;
        foreach (var (key, node) in annotations)
        {
            errors.AddRange(NameValidation.IsQualifiedName(key.ToLowerInvariant()).Select(m => FieldError.Invalid(path, key, m)));
            total += key.Length;
            if (node is JsonValue v && v.TryGetValue(out string? value))
            {
                total += value.Length;
            }
            else if (node is not null)
            {
                errors.Add(FieldError.TypeInvalid(path.Key(key), node.DeepClone(), "must be a string"));
            }
        }

        if (total > TotalAnnotationSizeLimitBytes)
        {
            errors.Add(FieldError.TooLong(path, TotalAnnotationSizeLimitBytes));
        }

        return errors;
    }

    /// <summary>Each finalizer a qualified name; orphan and foregroundDeletion not both.</summary>
    public static List<FieldError> ValidateFinalizers(JsonArray? finalizers, FieldPath path)
    {
        var errors = new List<FieldError>();
        if (finalizers is null)
        {
            return errors;
        }

        var names = new List<string>();
        foreach (var node in finalizers)
        {
            var name = node is JsonValue v && v.TryGetValue(out string? s) ? s : "";
            names.Add(name);
            errors.AddRange(NameValidation.IsQualifiedName(name).Select(m => FieldError.Invalid(path, name, m)));
        }

        if (names.Contains("orphan") && names.Contains("foregroundDeletion"))
        {
            errors.Add(FieldError.Invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set"));
        }

        return errors;
    }

    /// <summary>Owner references need apiVersion, kind, name and uid; at most one may be the controller.</summary>
    public static List<FieldError> ValidateOwnerReferences(JsonArray? ownerReferences, FieldPath path)
    {
        var errors = new List<FieldError>();
        if (ownerReferences is null)
        {
            return errors;
        }

        var controllers = new List<string>();
        foreach (var node in ownerReferences)
        {
            if (node is not JsonObject reference)
            {
                errors.Add(FieldError.TypeInvalid(path, node?.DeepClone(), "must be an object"));
                continue;
            }

            var apiVersion = GetString(reference, "apiVersion");
            var version = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[(apiVersion.IndexOf('/', StringComparison.Ordinal) + 1)..] : apiVersion;
            if (version.Length == 0)
            {
                errors.Add(FieldError.Invalid(path.Child("apiVersion"), apiVersion, "version must not be empty"));
            }

            var kind = GetString(reference, "kind");
            if (kind.Length == 0)
            {
                errors.Add(FieldError.Invalid(path.Child("kind"), kind, "kind must not be empty"));
            }

            var name = GetString(reference, "name");
            if (name.Length == 0)
            {
                errors.Add(FieldError.Invalid(path.Child("name"), name, "name must not be empty"));
            }

            var uid = GetString(reference, "uid");
            if (uid.Length == 0)
            {
                errors.Add(FieldError.Invalid(path.Child("uid"), uid, "uid must not be empty"));
            }

            if (reference["controller"] is JsonValue c && c.TryGetValue(out bool isController) && isController)
            {
                controllers.Add($"{kind}/{name}");
            }
        }

        if (controllers.Count > 1)
        {
            errors.Add(FieldError.Invalid(path, ownerReferences.ToJsonString(),
                $"Only one reference can have Controller set to true. Found \"true\" in references for {string.Join(" and ", controllers)}"));
        }

        return errors;
    }

    private static string GetString(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";
}
