using System.Globalization;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery;

/// <summary>A value that is either a 32-bit integer or a string (a port number or name, "25%" or 3).</summary>
[JsonConverter(typeof(IntOrStringJsonConverter))]
public readonly struct IntOrString : IEquatable<IntOrString>
{
    private readonly string? stringValue;

    public IntOrString(int value)
    {
        IntValue = value;
        stringValue = null;
    }

    public IntOrString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        IntValue = 0;
        stringValue = value;
    }

    public bool IsString => stringValue is not null;

    /// <summary>The integer; 0 when the value is a string.</summary>
    public int IntValue { get; }

    /// <summary>The string; the decimal form of the integer when the value is an integer.</summary>
    public string StringValue => stringValue ?? IntValue.ToString(CultureInfo.InvariantCulture);

    public static IntOrString FromInt32(int value) => new(value);

    public static IntOrString FromString(string value) => new(value);

    public static implicit operator IntOrString(int value) => new(value);

    public static implicit operator IntOrString(string value) => new(value);

    /// <summary>
    /// An integer as is, or a percentage ("25%") of <paramref name="total"/>, rounded up or down.
    /// </summary>
    /// <exception cref="FormatException">The string is not an integer percentage.</exception>
    public int GetScaledValueFromIntOrPercent(int total, bool roundUp)
    {
        if (stringValue is null)
        {
            return IntValue;
        }

        if (!stringValue.EndsWith('%') ||
            !int.TryParse(stringValue.AsSpan(0, stringValue.Length - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent))
        {
            throw new FormatException($"invalid value for IntOrString: invalid type: string is not a percentage");
        }

        var scaled = (double)percent * total / 100;
        return (int)(roundUp ? Math.Ceiling(scaled) : Math.Floor(scaled));
    }

    public bool Equals(IntOrString other) => IntValue == other.IntValue && stringValue == other.stringValue;

    public override bool Equals(object? obj) => obj is IntOrString other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(IntValue, stringValue);

    public override string ToString() => StringValue;

    public static bool operator ==(IntOrString left, IntOrString right) => left.Equals(right);

    public static bool operator !=(IntOrString left, IntOrString right) => !left.Equals(right);
}
