namespace Kubesharp.ApiMachinery.Schema;

/// <summary>The shape of a value in the API's structural schema.</summary>
public enum SchemaKind
{
    /// <summary>A struct with named properties.</summary>
    Object,

    /// <summary>A JSON array; see <see cref="TypeSchema.Items"/> and the list metadata.</summary>
    Array,

    /// <summary>A JSON object with arbitrary keys and values of <see cref="TypeSchema.Items"/>.</summary>
    Map,
    String,
    Integer,
    Number,
    Boolean,

    /// <summary>Either an integer or a string (format int-or-string).</summary>
    IntOrString,

    /// <summary>Any JSON value (RawExtension, JSON, fieldsV1).</summary>
    Any,
}
