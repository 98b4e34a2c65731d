using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.Client;

/// <summary>Reason tests for API errors, in client-go's spirit (errors.IsNotFound …).</summary>
public static class StatusExceptionExtensions
{
    public static bool IsNotFound(this StatusException error) => Is(error, 404, StatusReason.NotFound);

    public static bool IsAlreadyExists(this StatusException error) => Is(error, 409, StatusReason.AlreadyExists);

    public static bool IsConflict(this StatusException error) => Is(error, 409, StatusReason.Conflict);

    public static bool IsInvalid(this StatusException error) => Is(error, 422, StatusReason.Invalid);

    /// <summary>410: the requested resourceVersion is compacted away; an informer must relist.</summary>
    public static bool IsResourceExpired(this StatusException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Code == 410 || error.Reason is StatusReason.Expired or StatusReason.Gone;
    }

    /// <summary>403 with the NamespaceTerminating cause: nothing new may be created in a namespace being deleted.</summary>
    public static bool IsNamespaceTerminating(this StatusException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Details?.Causes.Any(c => c.Reason == NamespaceTerminatingCause) == true;
    }

    /// <summary>The cause type of <see cref="IsNamespaceTerminating"/>.</summary>
    public const string NamespaceTerminatingCause = "NamespaceTerminating";

    public static bool IsTooManyRequests(this StatusException error) => Is(error, 429, StatusReason.TooManyRequests);

    private static bool Is(StatusException error, int code, string reason)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Reason == reason || (error.Reason.Length == 0 && error.Code == code);
    }
}
