namespace Kubesharp.Scheduler.Framework;

/// <summary>A filter plugin's verdict on one node, with upstream's reason texts.</summary>
public sealed record FilterResult(FilterCode Code, IReadOnlyList<string> Reasons)
{
    public static FilterResult Success { get; } = new(FilterCode.Success, []);

    /// <summary>
    /// A PreFilter result (compared by reference) saying the plugin has nothing to check for this pod, so its
    /// Filter is not called this cycle: most pods have no node name, host ports, selectors or affinity terms.
    /// </summary>
    public static FilterResult Skip { get; } = new(FilterCode.Success, []);

    public bool IsSkip => ReferenceEquals(this, Skip);

    /// <summary>What the verdict adds after the reasons (the objects concerned); never part of upstream's message.</summary>
    public string? Detail { get; init; }

    public bool IsSuccess => Code == FilterCode.Success;

    public static FilterResult Unschedulable(params string[] reasons) => new(FilterCode.Unschedulable, reasons);

    public static FilterResult Unresolvable(params string[] reasons) => new(FilterCode.UnschedulableAndUnresolvable, reasons);
}
