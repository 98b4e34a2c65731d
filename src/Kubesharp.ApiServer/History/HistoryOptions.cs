namespace Kubesharp.ApiServer.History;

/// <summary>How long and how much object history the API server keeps (<c>--history-retention</c>, <c>--history-max-size</c>).</summary>
public sealed record HistoryOptions
{
    /// <summary>Revisions younger than this are kept; zero keeps no history at all.</summary>
    public TimeSpan Retention { get; init; }

    /// <summary>History beyond this many bytes loses its oldest revisions first, whatever their age.</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How often history past its retention or size is removed.</summary>
    public TimeSpan PruneInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the journal of who made each write and when is written out.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    public bool Enabled => Retention > TimeSpan.Zero;
}
