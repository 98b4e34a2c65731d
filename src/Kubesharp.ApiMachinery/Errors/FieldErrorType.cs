namespace Kubesharp.ApiMachinery.Errors;

/// <summary>Kinds of field validation error (field.ErrorType), each with its printed text and Status cause type.</summary>
public enum FieldErrorType
{
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}
