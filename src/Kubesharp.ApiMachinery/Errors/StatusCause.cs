namespace Kubesharp.ApiMachinery.Errors;

/// <summary>One cause of a failed Status: a field error, a conflicting manager, or an underlying error.</summary>
/// <param name="Reason">Cause type (FieldValueRequired, FieldManagerConflict, …); empty when not known.</param>
/// <param name="Message">Human-readable description.</param>
/// <param name="Field">Field path the cause refers to, if any (spec.containers[0].image).</param>
public sealed record StatusCause(string Reason, string Message, string Field);
