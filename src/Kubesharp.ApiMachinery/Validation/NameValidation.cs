using System.Globalization;
using System.Text.RegularExpressions;

namespace Kubesharp.ApiMachinery.Validation;

/// <summary>
/// Validates a name; <paramref name="prefix"/> is true when the value is a generateName prefix (to which random
/// characters are appended). Returns upstream's messages, empty when valid.
/// </summary>
public delegate IReadOnlyList<string> NameValidator(string name, bool prefix);

/// <summary>Syntax checks for names, keys and values with upstream's messages (k8s.io/apimachinery validation).</summary>
public static partial class NameValidation
{
    public const int Dns1123LabelMaxLength = 63;
    public const int Dns1123SubdomainMaxLength = 253;
    public const int Dns1035LabelMaxLength = 63;
    public const int QualifiedNameMaxLength = 63;
    public const int LabelValueMaxLength = 63;

    /// <summary>Length of the random suffix appended to a generateName prefix.</summary>
    public const int GeneratedSuffixLength = 5;

    private const string Dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123SubdomainFormat = Dns1123LabelFormat + "(\\." + Dns1123LabelFormat + ")*";
    private const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private const string QualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string LabelValueFormat = "(" + QualifiedNameFormat + ")?";

    private const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";

    private const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

    private const string Dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

    private const string QualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

    private const string LabelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

    private const string GeneratedNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>An RFC 1123 label (namespace names, service names in some kinds): at most 63 characters.</summary>
    public static IReadOnlyList<string> IsDns1123Label(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var errors = new List<string>();
        if (value.Length > Dns1123LabelMaxLength)
        {
            errors.Add(MaxLengthMessage(Dns1123LabelMaxLength));
        }

        if (!Dns1123Label().IsMatch(value))
        {
            errors.Add(Dns1123Subdomain().IsMatch(value)
                ? "must not contain dots"
                : RegexMessage(Dns1123LabelMessage, Dns1123LabelFormat, "my-name", "123-abc"));
        }

        return errors;
    }

    /// <summary>An RFC 1123 subdomain (most object names): at most 253 characters.</summary>
    public static IReadOnlyList<string> IsDns1123Subdomain(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var errors = new List<string>();
        if (value.Length > Dns1123SubdomainMaxLength)
        {
            errors.Add(MaxLengthMessage(Dns1123SubdomainMaxLength));
        }

        if (!Dns1123Subdomain().IsMatch(value))
        {
            errors.Add(RegexMessage(Dns1123SubdomainMessage, Dns1123SubdomainFormat, "example.com"));
        }

        return errors;
    }

    /// <summary>An RFC 1035 label (Service names): starts with a letter, at most 63 characters.</summary>
    public static IReadOnlyList<string> IsDns1035Label(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var errors = new List<string>();
        if (value.Length > Dns1035LabelMaxLength)
        {
            errors.Add(MaxLengthMessage(Dns1035LabelMaxLength));
        }

        if (!Dns1035Label().IsMatch(value))
        {
            errors.Add(RegexMessage(Dns1035LabelMessage, Dns1035LabelFormat, "my-name", "abc-123"));
        }

        return errors;
    }

    /// <summary>A qualified name (label and annotation keys, finalizers): optional DNS subdomain prefix and '/'.</summary>
    public static IReadOnlyList<string> IsQualifiedName(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var errors = new List<string>();
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                var prefix = parts[0];
                name = parts[1];
                if (prefix.Length == 0)
                {
                    errors.Add("prefix part must be non-empty");
                }
                else
                {
                    errors.AddRange(IsDns1123Subdomain(prefix).Select(m => "prefix part " + m));
                }

                break;
            default:
                errors.Add("a qualified name " + RegexMessage(QualifiedNameMessage, QualifiedNameFormat, "MyName", "my.name", "123-abc")
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return errors;
        }

        if (name.Length == 0)
        {
            errors.Add("name part must be non-empty");
        }
        else if (name.Length > QualifiedNameMaxLength)
        {
            errors.Add("name part " + MaxLengthMessage(QualifiedNameMaxLength));
        }

        if (!QualifiedName().IsMatch(name))
        {
            errors.Add("name part " + RegexMessage(QualifiedNameMessage, QualifiedNameFormat, "MyName", "my.name", "123-abc"));
        }

        return errors;
    }

    /// <summary>A label value: empty, or a qualified-name-like string of at most 63 characters.</summary>
    public static IReadOnlyList<string> IsValidLabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var errors = new List<string>();
        if (value.Length > LabelValueMaxLength)
        {
            errors.Add(MaxLengthMessage(LabelValueMaxLength));
        }

        if (!LabelValue().IsMatch(value))
        {
            errors.Add(RegexMessage(LabelValueMessage, LabelValueFormat, "MyValue", "my_value", "12345"));
        }

        return errors;
    }

    /// <summary>A name usable as one URL path segment: not "." or "..", without '/' or '%'.</summary>
    public static IReadOnlyList<string> IsValidPathSegmentName(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value is "." or "..")
        {
            return [$"may not be '{value}'"];
        }

        var errors = new List<string>();
        if (value.Contains('/', StringComparison.Ordinal))
        {
            errors.Add("may not contain '/'");
        }

        if (value.Contains('%', StringComparison.Ordinal))
        {
            errors.Add("may not contain '%'");
        }

        return errors;
    }

    /// <summary>Name rule of most kinds: a DNS subdomain (a generateName prefix may end in '-').</summary>
    public static IReadOnlyList<string> Dns1123SubdomainName(string name, bool prefix) =>
        IsDns1123Subdomain(prefix ? MaskTrailingDash(name) : name);

    /// <summary>Name rule of Namespaces and some other kinds: a DNS label.</summary>
    public static IReadOnlyList<string> Dns1123LabelName(string name, bool prefix) =>
        IsDns1123Label(prefix ? MaskTrailingDash(name) : name);

    /// <summary>Name rule of Services: an RFC 1035 label.</summary>
    public static IReadOnlyList<string> Dns1035LabelName(string name, bool prefix) =>
        IsDns1035Label(prefix ? MaskTrailingDash(name) : name);

    /// <summary>Name rule of kinds whose names only need to be path segments (e.g. RBAC roles).</summary>
    public static IReadOnlyList<string> PathSegmentName(string name, bool prefix) => IsValidPathSegmentName(name);

    /// <summary>
    /// A name from a generateName prefix: the prefix cut so the result fits a label, plus five random characters
    /// from upstream's alphabet (no vowels, no confusable digits).
    /// </summary>
    public static string GenerateName(string prefix, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        random ??= Random.Shared;
        const int maxPrefix = Dns1123LabelMaxLength - GeneratedSuffixLength;
        if (prefix.Length > maxPrefix)
        {
            prefix = prefix[..maxPrefix];
        }

        Span<char> suffix = stackalloc char[GeneratedSuffixLength];
        for (var i = 0; i < suffix.Length; i++)
        {
            suffix[i] = GeneratedNameAlphabet[random.Next(GeneratedNameAlphabet.Length)];
        }

        return string.Concat(prefix, suffix);
    }

    /// <summary><c>must be no more than N characters</c>.</summary>
    public static string MaxLengthMessage(int length) =>
        string.Create(CultureInfo.InvariantCulture, $"must be no more than {length} characters");

    /// <summary>A prefix may legitimately end in '-'; upstream validates it with the end masked.</summary>
    private static string MaskTrailingDash(string name) =>
        name.Length > 1 && name.EndsWith('-') ? name[..^2] + "a" : name;

    private static string RegexMessage(string message, string format, params string[] examples)
    {
        if (examples.Length == 0)
        {
            return message + " (regex used for validation is '" + format + "')";
        }

        return message + " (e.g. " + string.Concat(examples.Select((e, i) => (i > 0 ? " or " : "") + "'" + e + "', "))
            + "regex used for validation is '" + format + "')";
    }

    [GeneratedRegex("\\A(?:" + Dns1123LabelFormat + ")\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("\\A(?:" + Dns1123SubdomainFormat + ")\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("\\A(?:" + Dns1035LabelFormat + ")\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1035Label();

    [GeneratedRegex("\\A(?:" + QualifiedNameFormat + ")\\z", RegexOptions.CultureInvariant)]
    private static partial Regex QualifiedName();

    [GeneratedRegex("\\A(?:" + LabelValueFormat + ")\\z", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValue();
}
