using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery;

/// <summary>
/// A fixed-point amount with a unit suffix (500m, 1.5Gi, 12e6), with the Kubernetes rules: values finer
/// than a nano-unit round up (away from zero) to 1n, binary-SI values cap at 2^63-1, and the written form is
/// canonical (no fractional digits, the largest possible suffix, sign only when negative).
/// Equality and ordering compare values; the format only affects how the value is written.
/// </summary>
[JsonConverter(typeof(QuantityJsonConverter))]
public readonly struct Quantity : IEquatable<Quantity>, IComparable<Quantity>, IComparable
{
    // Exponents beyond this are rejected: they are not real resource amounts and would make exact
    // arithmetic on the mantissa arbitrarily expensive.
    private const int MaxExponent = 1000;
    private const int NanoExponent = -9;

    private static readonly string[] BinarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

    // value = mantissa * 10^exponent, with no trailing decimal zeros in mantissa (zero has exponent 0).
    private readonly BigInteger mantissa;
    private readonly int exponent;

    private Quantity(BigInteger mantissa, int exponent, QuantityFormat format)
    {
        if (mantissa.IsZero)
        {
            exponent = 0;
        }
        else
        {
            while (mantissa % 10 == 0)
            {
                mantissa /= 10;
                exponent++;
            }
        }

        this.mantissa = mantissa;
        this.exponent = exponent;
        Format = format;
    }

    /// <summary>An integer amount, written in <paramref name="format"/>.</summary>
    public Quantity(long value, QuantityFormat format = QuantityFormat.DecimalSI)
        : this(value, 0, format)
    {
    }

    public static Quantity Zero => default;

    public QuantityFormat Format { get; }

    public bool IsZero => mantissa.IsZero;

    public int Sign => mantissa.Sign;

    /// <summary><paramref name="value"/> × 10^<paramref name="scale"/> (scale -3 gives milli-units).</summary>
    public static Quantity FromScaled(long value, int scale, QuantityFormat format = QuantityFormat.DecimalSI) =>
        Round(new BigInteger(value), scale, format);

    /// <summary>An amount in thousandths (250 → 250m).</summary>
    public static Quantity FromMilli(long milliValue, QuantityFormat format = QuantityFormat.DecimalSI) =>
        FromScaled(milliValue, -3, format);

    public static Quantity Parse(string text) =>
        TryParse(text, out var q) ? q : throw new FormatException($"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \"{text}\"");

    public static bool TryParse([NotNullWhen(true)] string? text, out Quantity quantity)
    {
        quantity = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var i = 0;
        var negative = false;
        if (text[0] is '+' or '-')
        {
            negative = text[0] == '-';
            i++;
        }

        var digits = new StringBuilder();
        var fractionDigits = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            digits.Append(text[i++]);
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                digits.Append(text[i++]);
                fractionDigits++;
            }
        }

        if (digits.Length == 0)
        {
            return false;
        }

        if (!TryParseSuffix(text.AsSpan(i), out var suffixBase, out var suffixExponent, out var format))
        {
            return false;
        }

        var value = BigInteger.Parse(digits.ToString(), NumberStyles.None, CultureInfo.InvariantCulture);
        if (negative)
        {
            value = -value;
        }

        var decimalExponent = -fractionDigits;
        if (suffixBase == 10)
        {
            decimalExponent += suffixExponent;
        }
        else
        {
            value <<= suffixExponent;
        }

        if (Math.Abs(decimalExponent) > MaxExponent)
        {
            return false;
        }

        quantity = Round(value, decimalExponent, format);
        if (format == QuantityFormat.BinarySI)
        {
            var max = new Quantity(long.MaxValue, QuantityFormat.BinarySI);
            var min = new Quantity(-long.MaxValue, QuantityFormat.BinarySI);
            if (quantity > max)
            {
                quantity = max;
            }
            else if (quantity < min)
            {
                quantity = min;
            }
            else if (!quantity.IsZero && quantity.exponent < 0 && BigInteger.Abs(quantity.mantissa) < BigInteger.Pow(10, -quantity.exponent))
            {
                // Binary suffixes cannot write amounts below one.
                quantity = new Quantity(quantity.mantissa, quantity.exponent, QuantityFormat.DecimalSI);
            }
        }

        return true;
    }

    private static bool TryParseSuffix(ReadOnlySpan<char> suffix, out int suffixBase, out int suffixExponent, out QuantityFormat format)
    {
        suffixBase = 10;
        suffixExponent = 0;
        format = QuantityFormat.DecimalSI;
        switch (suffix)
        {
            case "": return true;
            case "n": suffixExponent = -9; return true;
            case "u": suffixExponent = -6; return true;
            case "m": suffixExponent = -3; return true;
            case "k": suffixExponent = 3; return true;
            case "M": suffixExponent = 6; return true;
            case "G": suffixExponent = 9; return true;
            case "T": suffixExponent = 12; return true;
            case "P": suffixExponent = 15; return true;
            case "E": suffixExponent = 18; return true;
        }

        var binary = Array.IndexOf(BinarySuffixes, suffix.ToString());
        if (binary > 0)
        {
            suffixBase = 2;
            suffixExponent = binary * 10;
            format = QuantityFormat.BinarySI;
            return true;
        }

        if (suffix.Length > 1 && suffix[0] is 'e' or 'E')
        {
            var number = suffix[1..];
            var start = number[0] is '+' or '-' ? 1 : 0;
            if (number.Length == start || number[start..].ContainsAnyExceptInRange('0', '9') ||
                !int.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out suffixExponent) ||
                Math.Abs(suffixExponent) > MaxExponent)
            {
                return false;
            }

            format = QuantityFormat.DecimalExponent;
            return true;
        }

        return false;
    }

    /// <summary>Rounds anything finer than a nano-unit up, away from zero.</summary>
    private static Quantity Round(BigInteger value, int decimalExponent, QuantityFormat format)
    {
        if (decimalExponent < NanoExponent && !value.IsZero)
        {
            var divisor = BigInteger.Pow(10, NanoExponent - decimalExponent);
            var quotient = BigInteger.DivRem(value, divisor, out var remainder);
            if (!remainder.IsZero)
            {
                quotient += value.Sign;
            }

            return new Quantity(quotient, NanoExponent, format);
        }

        return new Quantity(value, decimalExponent, format);
    }

    /// <summary>The amount rounded up (away from zero) to an integer; saturates at the bounds of long.</summary>
    public long Value() => ScaledValue(0);

    /// <summary>The amount in thousandths, rounded up (away from zero); saturates at the bounds of long.</summary>
    public long MilliValue() => ScaledValue(-3);

    /// <summary>The amount in units of 10^<paramref name="scale"/>, rounded up (away from zero); saturates.</summary>
    public long ScaledValue(int scale)
    {
        var shift = exponent - scale;
        BigInteger result;
        if (shift >= 0)
        {
            if (shift > 40)
            {
                return mantissa.Sign >= 0 ? long.MaxValue : long.MinValue;
            }

            result = mantissa * BigInteger.Pow(10, shift);
        }
        else
        {
            var divisor = BigInteger.Pow(10, -shift);
            result = BigInteger.DivRem(mantissa, divisor, out var remainder);
            if (!remainder.IsZero)
            {
                result += mantissa.Sign;
            }
        }

        return result > long.MaxValue ? long.MaxValue : result < long.MinValue ? long.MinValue : (long)result;
    }

    /// <summary>The amount as a double, possibly losing precision.</summary>
    public double ToDouble() => (double)mantissa * Math.Pow(10, exponent);

    /// <summary>The same amount written in another format.</summary>
    public Quantity WithFormat(QuantityFormat format) => new(mantissa, exponent, format);

    public Quantity Add(Quantity other)
    {
        var common = Math.Min(exponent, other.exponent);
        var sum = Scale(mantissa, exponent - common) + Scale(other.mantissa, other.exponent - common);
        return new Quantity(sum, common, IsZero ? other.Format : Format);
    }

    public Quantity Subtract(Quantity other) => Add(other.Negate());

    public Quantity Negate() => new(-mantissa, exponent, Format);

    public Quantity Multiply(long factor) => new(mantissa * factor, exponent, Format);

    private static BigInteger Scale(BigInteger value, int power) => power == 0 ? value : value * BigInteger.Pow(10, power);

    public int CompareTo(Quantity other)
    {
        if (mantissa.Sign != other.mantissa.Sign)
        {
            return mantissa.Sign.CompareTo(other.mantissa.Sign);
        }

        if (mantissa.IsZero)
        {
            return 0;
        }

        var common = Math.Min(exponent, other.exponent);
        return Scale(mantissa, exponent - common).CompareTo(Scale(other.mantissa, other.exponent - common));
    }

    public int CompareTo(object? obj) => obj is Quantity q ? CompareTo(q) : throw new ArgumentException("not a Quantity", nameof(obj));

    public bool Equals(Quantity other) => mantissa == other.mantissa && exponent == other.exponent;

    public override bool Equals(object? obj) => obj is Quantity q && Equals(q);

    public override int GetHashCode() => HashCode.Combine(mantissa, exponent);

    /// <summary>The canonical written form.</summary>
    public override string ToString()
    {
        if (mantissa.IsZero)
        {
            return "0";
        }

        var format = Format;
        if (format == QuantityFormat.BinarySI)
        {
            var value = exponent >= 0 ? Scale(mantissa, exponent) : BigInteger.Zero;
            if (exponent < 0 || BigInteger.Abs(value) < 1024)
            {
                // Fractions and small amounts have no binary suffix.
                format = QuantityFormat.DecimalSI;
            }
            else
            {
                var power = 0;
                while (power < BinarySuffixes.Length - 1 && (BigInteger.Abs(value) & 1023) == 0)
                {
                    value /= 1024;
                    power++;
                }

                return value.ToString(CultureInfo.InvariantCulture) + BinarySuffixes[power];
            }
        }

        var m = mantissa;
        var e = exponent;
        while (((e % 3) + 3) % 3 != 0)
        {
            m *= 10;
            e--;
        }

        if (format == QuantityFormat.DecimalExponent)
        {
            return m.ToString(CultureInfo.InvariantCulture) + (e == 0 ? "" : "e" + e.ToString(CultureInfo.InvariantCulture));
        }

        if (e > 18)
        {
            m *= BigInteger.Pow(10, e - 18);
            e = 18;
        }

        var suffix = e switch
        {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            _ => "E",
        };
        return m.ToString(CultureInfo.InvariantCulture) + suffix;
    }

    public static bool operator ==(Quantity left, Quantity right) => left.Equals(right);

    public static bool operator !=(Quantity left, Quantity right) => !left.Equals(right);

    public static bool operator <(Quantity left, Quantity right) => left.CompareTo(right) < 0;

    public static bool operator <=(Quantity left, Quantity right) => left.CompareTo(right) <= 0;

    public static bool operator >(Quantity left, Quantity right) => left.CompareTo(right) > 0;

    public static bool operator >=(Quantity left, Quantity right) => left.CompareTo(right) >= 0;

    public static Quantity operator +(Quantity left, Quantity right) => left.Add(right);

    public static Quantity operator -(Quantity left, Quantity right) => left.Subtract(right);

    public static Quantity operator -(Quantity value) => value.Negate();
}
