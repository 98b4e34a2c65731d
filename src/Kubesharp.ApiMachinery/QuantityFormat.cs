namespace Kubesharp.ApiMachinery;

/// <summary>How a <see cref="Quantity"/> is written: the format of the suffix it was parsed with.</summary>
public enum QuantityFormat
{
    /// <summary>Decimal SI suffixes: n, u, m, (none), k, M, G, T, P, E.</summary>
    DecimalSI,

    /// <summary>Binary SI suffixes: Ki, Mi, Gi, Ti, Pi, Ei.</summary>
    BinarySI,

    /// <summary>Decimal exponent: 12e6, 1E-3.</summary>
    DecimalExponent,
}
