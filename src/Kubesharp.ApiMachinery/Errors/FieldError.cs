using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.Errors;

/// <summary>
/// One validation error on one field (upstream's field.Error); printed as <c>&lt;field&gt;: &lt;body&gt;</c>,
/// where the body is e.g. <c>Invalid value: "x": detail</c> or <c>Required value</c>.
/// </summary>
public sealed record FieldError
{
    private FieldError(FieldErrorType type, string field, object? badValue, bool hasValue, string detail)
    {
        Type = type;
        Field = field;
        BadValue = badValue;
        HasBadValue = hasValue;
        Detail = detail;
    }

    public FieldErrorType Type { get; }

    public string Field { get; }

    /// <summary>The rejected value (string, number, bool, JSON node, string list), or null.</summary>
    public object? BadValue { get; }

    /// <summary>False when the value is not printed (Required, Forbidden, TooLong, Internal, omitted values).</summary>
    public bool HasBadValue { get; }

    public string Detail { get; }

    public static FieldError NotFound(FieldPath field, object? value) => new(FieldErrorType.NotFound, Path(field), value, true, "");

    public static FieldError Required(FieldPath field, string detail = "") => new(FieldErrorType.Required, Path(field), null, false, detail);

    public static FieldError Duplicate(FieldPath field, object? value) => new(FieldErrorType.Duplicate, Path(field), value, true, "");

    public static FieldError Invalid(FieldPath field, object? value, string detail) => new(FieldErrorType.Invalid, Path(field), value, true, detail);

    public static FieldError TypeInvalid(FieldPath field, object? value, string detail) => new(FieldErrorType.TypeInvalid, Path(field), value, true, detail);

    public static FieldError NotSupported(FieldPath field, object? value, IEnumerable<string> supportedValues)
    {
        ArgumentNullException.ThrowIfNull(supportedValues);
        var quoted = supportedValues.Select(QuotedString.Quote).ToList();
        var detail = quoted.Count == 0 ? "" : "supported values: " + string.Join(", ", quoted);
        return new(FieldErrorType.NotSupported, Path(field), value, true, detail);
    }

    public static FieldError Forbidden(FieldPath field, string detail) => new(FieldErrorType.Forbidden, Path(field), null, false, detail);

    /// <summary>A value longer than <paramref name="maxLength"/> bytes (a negative maximum means unknown).</summary>
    public static FieldError TooLong(FieldPath field, int maxLength)
    {
        var detail = maxLength >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"may not be more than {maxLength} {(maxLength == 1 ? "byte" : "bytes")}")
            : "value is too long";
        return new(FieldErrorType.TooLong, Path(field), null, false, detail);
    }

    /// <summary>A list with more than <paramref name="maxItems"/> items; a negative <paramref name="actualItems"/> is not printed.</summary>
    public static FieldError TooMany(FieldPath field, int actualItems, int maxItems)
    {
        var detail = maxItems >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"must have at most {maxItems} {(maxItems == 1 ? "item" : "items")}")
            : "has too many items";
        return new(FieldErrorType.TooMany, Path(field), actualItems >= 0 ? (long)actualItems : null, actualItems >= 0, detail);
    }

    public static FieldError InternalError(FieldPath field, string message) => new(FieldErrorType.Internal, Path(field), null, false, message);

    /// <summary>The printed type of the error (<c>Invalid value</c>, <c>Required value</c>, …).</summary>
    public static string TypeText(FieldErrorType type) => type switch
    {
        FieldErrorType.NotFound => "Not found",
        FieldErrorType.Required => "Required value",
        FieldErrorType.Duplicate => "Duplicate value",
        FieldErrorType.Invalid => "Invalid value",
        FieldErrorType.NotSupported => "Unsupported value",
        FieldErrorType.Forbidden => "Forbidden",
        FieldErrorType.TooLong => "Too long",
        FieldErrorType.TooMany => "Too many",
        FieldErrorType.Internal => "Internal error",
        FieldErrorType.TypeInvalid => "Invalid value",
        _ => "Unknown",
    };

    /// <summary>The Status cause type of the error (<c>FieldValueInvalid</c>, …).</summary>
    public static string CauseType(FieldErrorType type) => type switch
    {
        FieldErrorType.NotFound => "FieldValueNotFound",
        FieldErrorType.Required => "FieldValueRequired",
        FieldErrorType.Duplicate => "FieldValueDuplicate",
        FieldErrorType.Invalid => "FieldValueInvalid",
        FieldErrorType.NotSupported => "FieldValueNotSupported",
        FieldErrorType.Forbidden => "FieldValueForbidden",
        FieldErrorType.TooLong => "FieldValueTooLong",
        FieldErrorType.TooMany => "FieldValueTooMany",
        FieldErrorType.Internal => "InternalError",
        FieldErrorType.TypeInvalid => "FieldValueTypeInvalid",
        _ => "",
    };

    /// <summary>The message without the field: <c>Invalid value: "x": detail</c>.</summary>
    public string Body
    {
        get
        {
            var builder = new StringBuilder(TypeText(Type));
            if (HasBadValue)
            {
                builder.Append(": ");
                AppendValue(builder, BadValue);
            }

            if (Detail.Length > 0)
            {
                builder.Append(": ").Append(Detail);
            }

            return builder.ToString();
        }
    }

    /// <summary>The full message: <c>spec.replicas: Invalid value: -1: must be greater than or equal to 0</c>.</summary>
    public string Message => $"{Field}: {Body}";

    public override string ToString() => Message;

    /// <summary>
    /// Joins errors as upstream's aggregate does: one message alone, several as <c>[a, b]</c>, duplicates once.
    /// </summary>
    public static string Aggregate(IEnumerable<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var messages = new List<string>();
        foreach (var error in errors)
        {
            if (seen.Add(error.Message))
            {
                messages.Add(error.Message);
            }
        }

        return messages.Count switch
        {
            0 => "",
            1 => messages[0],
            _ => "[" + string.Join(", ", messages) + "]",
        };
    }

    private static string Path(FieldPath field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.ToString();
    }

    private static void AppendValue(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case string s:
                QuotedString.Append(builder, s);
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case JsonValue json when json.TryGetValue(out string? s):
                QuotedString.Append(builder, s);
                break;
            case JsonNode json:
                builder.Append(json.ToJsonString());
                break;
            case IEnumerable<string> strings:
                builder.Append("[]string{").AppendJoin(", ", strings.Select(QuotedString.Quote)).Append('}');
                break;
            case IFormattable formattable:
                builder.Append(formattable.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                builder.Append(value);
                break;
        }
    }
}
